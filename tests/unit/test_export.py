"""The CSV and the summary: gradebook scores with each learner's status and reason."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from autograder.grading import export
from autograder.grading.records import GradeRecord, NotebookRecord

POINTS = {"test_a": 2.0, "test_b": 1.0}


def rec(student: str, outcome: str, reason: str = "", review: str = "",
        mistakes: tuple[str, ...] = ()) -> GradeRecord:
    return GradeRecord(student, "k", (NotebookRecord("ps1", outcome, reason, mistakes,  # type: ignore[arg-type]
                                                     review),))


def scores(total: float, a: float, b: float, penalty: float = 0.0) -> dict[str, Any]:
    return {"score": total, "max_score": 3.0, "late_penalty": penalty,
            "questions": {"test_a": a, "test_b": b}, "needs_manual_grade": False}


# cal's latest submission is not gradable; the gradebook keeps an earlier grade of 2
SCORES = {"ana": scores(3, 2, 1), "ben": scores(1, 0, 1), "cal": scores(2, 2, 0),
          "dee": scores(2.5, 2, 0.5), "eve": scores(1, 2, 1, penalty=2)}
RECORDS = {
    "ana": rec("ana", "graded"),
    "ben": rec("ben", "graded", review="marked for review: cell 3 assigns asyncio.sleep",
               mistakes=("the calls ran one after another",)),
    "cal": rec("cal", "not-gradable", "no notebook named ps1.ipynb"),
    "dee": rec("dee", "timeout", "ran past the time limit in cell 4",
               mistakes=("the calls ran one after another",)),
    "eve": rec("eve", "graded"),
    "fin": rec("fin", "not-gradable", "ps1.ipynb is not valid JSON"),  # nothing in the gradebook
}


def test_rows_carry_scores_status_and_reason() -> None:
    rows = {r["student_id"]: r for r in export.rows("ps1", list(POINTS), SCORES, RECORDS,
                                                    max_score=3.0)}
    assert rows["ana"] == {"student_id": "ana", "assignment": "ps1", "score": 3, "max_score": 3,
                           "late_penalty": 0, "test_a": 2, "test_b": 1, "status": "graded",
                           "reason": ""}
    assert rows["ben"]["status"] == "review"
    assert rows["dee"]["status"] == "graded (cell timed out)" and rows["dee"]["score"] == 2.5
    assert (rows["eve"]["score"], rows["eve"]["late_penalty"]) == (1, 2)


def test_not_gradable_is_empty_never_zero_whatever_the_gradebook_kept() -> None:
    rows = {r["student_id"]: r for r in export.rows("ps1", list(POINTS), SCORES, RECORDS,
                                                    max_score=3.0)}
    for student, reason in (("cal", "no notebook named ps1.ipynb"),
                            ("fin", "ps1.ipynb is not valid JSON")):
        assert rows[student] == {"student_id": student, "assignment": "ps1", "score": "",
                                 "max_score": 3, "late_penalty": "", "test_a": "", "test_b": "",
                                 "status": "not gradable", "reason": reason}


def test_a_learner_graded_by_plain_nbgrader_has_a_row_too() -> None:
    (row,) = export.rows("ps1", list(POINTS), {"eve": scores(1, 1, 0)}, {})
    assert row["status"] == "graded by nbgrader" and row["reason"] == ""


def test_the_csv_has_one_column_per_question_in_order(tmp_path: Path) -> None:
    table = export.rows("ps1", list(POINTS), SCORES, RECORDS)
    path = tmp_path / "out" / "grades.csv"
    export.write_csv(path, table, list(POINTS))
    with path.open() as fh:
        read = list(csv.DictReader(fh))
    assert list(read[0]) == ["student_id", "assignment", "score", "max_score", "late_penalty",
                             "test_a", "test_b", "status", "reason"]
    assert [r["student_id"] for r in read] == ["ana", "ben", "cal", "dee", "eve", "fin"]
    assert (read[2]["score"], read[2]["test_a"]) == ("", "")
    assert not list(tmp_path.glob("out/*.tmp"))  # written whole, then moved into place


def test_the_summary_counts_what_an_instructor_acts_on() -> None:
    records = {**RECORDS, "gus": rec("gus", "kernel-died", "the kernel died in cell 6")}
    table = export.rows("ps1", list(POINTS), {**SCORES, "gus": scores(0, 0, 0)}, records)
    text = export.summary(table, POINTS, records, graded_now=3, skipped=1, seconds=2.0)
    assert text.startswith("7 submissions: 3 graded now, 1 unchanged (kept), in 2.0 s (1.5/s)")
    assert "Scores (of 3, late penalties subtracted; 5 with a score):" in text
    assert "      1 | ############################## 2" in text  # ben and eve; not cal or fin
    assert "  test_a   60.0%  (3/5)" in text  # of the learners graded: ana, dee, eve
    assert "     2 x the calls ran one after another" in text
    assert "Late (1, nbgrader's late penalty subtracted):\n  eve: -2" in text
    assert "Stopped running (1, scored 0 from there on):\n  gus: the kernel died" in text
    assert ("Not gradable (2, no score; their feedback says how to resubmit):\n"
            "  cal: no notebook named ps1.ipynb\n  fin: ps1.ipynb is not valid JSON") in text
    assert "Marked for review (1; check by hand):\n  ben: marked" in text
    assert "A cell timed out (1):\n  dee: ran past the time limit in cell 4" in text


def test_a_flagged_submission_says_which_points_came_after_the_flagged_code() -> None:
    flagged = GradeRecord("ben", "k", (NotebookRecord(
        "ps1", "graded", "marked for review: cell 3 assigns asyncio.sleep", (),
        "marked for review: cell 3 assigns asyncio.sleep", flagged_points=1.0),))
    records = {"ben": flagged}
    (row,) = export.rows("ps1", list(POINTS), {"ben": scores(1, 0, 1)}, records)
    assert row["status"] == "review" and row["score"] == 1
    assert row["reason"].endswith("(1 of its 1 points came from cells that ran after the "
                                  "flagged code)")
    (held,) = export.rows("ps1", list(POINTS), {"ben": scores(1, 0, 1)}, records,
                          hold_flagged=True)
    assert (held["status"], held["score"]) == ("review (score held back)", "")
    text = export.summary([row], POINTS, records, graded_now=1, skipped=0, seconds=1.0)
    assert "ben: marked for review: cell 3 assigns asyncio.sleep [1 of its points" in text


def test_learner_text_reaches_the_csv_as_text(tmp_path: Path) -> None:
    sly = GradeRecord("eve", "k", (NotebookRecord("ps1", "graded", "=HYPERLINK(\"x\")\x1b[2J"),))
    table = export.rows("ps1", list(POINTS), {"eve": scores(1, 1, 0)}, {"eve": sly})
    export.write_csv(tmp_path / "g.csv", table, list(POINTS))
    with (tmp_path / "g.csv").open() as fh:
        (row,) = list(csv.DictReader(fh))
    assert row["reason"] == "'=HYPERLINK(\"x\")\\x1b[2J"  # no formula, no escape sequence
