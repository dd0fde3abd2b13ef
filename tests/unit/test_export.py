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


def scores(total: float, a: float, b: float) -> dict[str, Any]:
    return {"score": total, "max_score": 3.0, "questions": {"test_a": a, "test_b": b},
            "needs_manual_grade": False}


SCORES = {"ana": scores(3, 2, 1), "ben": scores(1, 0, 1), "cal": scores(0, 0, 0),
          "dee": scores(2.5, 2, 0.5)}
RECORDS = {
    "ana": rec("ana", "graded"),
    "ben": rec("ben", "graded", review="marked for review: cell 3 assigns asyncio.sleep",
               mistakes=("the calls ran one after another",)),
    "cal": rec("cal", "not-gradable", "no notebook named ps1.ipynb"),
    "dee": rec("dee", "timeout", "ran past the time limit in cell 4",
               mistakes=("the calls ran one after another",)),
}


def test_rows_carry_scores_status_and_reason() -> None:
    rows = {r["student_id"]: r for r in export.rows("ps1", list(POINTS), SCORES, RECORDS)}
    assert rows["ana"] == {"student_id": "ana", "assignment": "ps1", "score": 3, "max_score": 3,
                           "test_a": 2, "test_b": 1, "status": "graded", "reason": ""}
    assert rows["ben"]["status"] == "review"
    assert (rows["cal"]["status"], rows["cal"]["reason"]) == (
        "not gradable", "no notebook named ps1.ipynb")
    assert rows["dee"]["status"] == "graded (cell timed out)" and rows["dee"]["score"] == 2.5


def test_a_learner_graded_by_plain_nbgrader_has_a_row_too() -> None:
    (row,) = export.rows("ps1", list(POINTS), {"eve": scores(1, 1, 0)}, {})
    assert row["status"] == "graded by nbgrader" and row["reason"] == ""


def test_the_csv_has_one_column_per_question_in_order(tmp_path: Path) -> None:
    table = export.rows("ps1", list(POINTS), SCORES, RECORDS)
    path = tmp_path / "out" / "grades.csv"
    export.write_csv(path, table, list(POINTS))
    with path.open() as fh:
        read = list(csv.DictReader(fh))
    assert list(read[0]) == ["student_id", "assignment", "score", "max_score", "test_a",
                             "test_b", "status", "reason"]
    assert [r["student_id"] for r in read] == ["ana", "ben", "cal", "dee"]
    assert not list(tmp_path.glob("out/*.tmp"))  # written whole, then moved into place


def test_the_summary_counts_what_an_instructor_acts_on() -> None:
    table = export.rows("ps1", list(POINTS), SCORES, RECORDS)
    text = export.summary(table, POINTS, RECORDS, graded_now=3, skipped=1, seconds=2.0)
    assert text.startswith("4 submissions: 3 graded now, 1 unchanged (kept), in 2.0 s (1.5/s)")
    assert "  test_a   50.0%  (2/4)" in text
    assert "     2 x the calls ran one after another" in text
    assert "Could not be graded (1, scored 0):\n  cal: no notebook named ps1.ipynb" in text
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
