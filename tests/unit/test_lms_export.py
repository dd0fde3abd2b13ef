"""LMS import files: Canvas's gradebook CSV and Moodle's grading worksheet, byte for byte; the
final score is nbgrader export's (late penalty subtracted, never below 0); a learner who could not
be graded gets an empty cell, never 0; spreadsheet formulas in names are neutralised."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from pathlib import Path

import pytest

from autograder.grading.records import GradeRecord, NotebookRecord
from autograder.lms.export import ExportRow, canvas_csv, moodle_csv, points, write
from autograder.lms.grades import ClassScores, SubmissionScore, final_rows
from autograder.lms.naming import Roster
from autograder.text import neutralise

ROWS = [
    ExportRow("canvas-111", "111", 2.5, 3.0, "Smith, John", "S1", "jsmith", "Sec A"),
    ExportRow("canvas-222", "222", None, 3.0, "Smith, John"),  # could not be graded
    ExportRow("canvas-333", "333", 3.0, 3.0, "=HYPERLINK(\"http://x\")"),
    ExportRow("jdoe", None, 1.0, 3.0),  # no Canvas id known: never guessed
]


def test_the_canvas_file_is_the_gradebook_import_layout_byte_for_byte() -> None:
    export = canvas_csv(ROWS, title="ps1", assignment_id=12345)
    assert export.text.encode() == (
        b"Student,ID,SIS User ID,SIS Login ID,Section,ps1 (12345)\n"
        b'"Smith, John",111,S1,jsmith,Sec A,2.5\n'
        b'"Smith, John",222,,,,\n'
        b"\"'=HYPERLINK(\"\"http://x\"\")\",333,,,,3\n")
    assert (export.rows, export.unmatched) == (3, ("jdoe",))
    parsed = list(csv.reader(io.StringIO(export.text)))
    # what Canvas's importer requires: Student and ID first, Section last of the learner columns
    assert parsed[0][:2] == ["Student", "ID"] and parsed[0][4] == "Section"
    assert parsed[2][5] == ""  # empty, not 0


def test_the_moodle_file_is_the_grading_worksheet_byte_for_byte() -> None:
    rows = [ExportRow("moodle-12345", "12345", 2.25, 3.0, "Jane Doe"),
            ExportRow("moodle-12346", "12346", None, 3.0, "+John Smith")]
    export = moodle_csv(rows, exported_at=datetime(2024, 6, 3, 10, 0, tzinfo=UTC))
    assert export.text.encode() == (
        b"Identifier,Full name,Grade,Maximum Grade,Last modified (grade)\n"
        b"Participant 12345,Jane Doe,2.25,3,2024-06-03T10:00:00+00:00\n"
        b"Participant 12346,'+John Smith,,3,2024-06-03T10:00:00+00:00\n")
    with pytest.raises(ValueError, match="timezone"):
        moodle_csv(rows, exported_at=datetime(2024, 6, 3))


def test_cells_and_numbers() -> None:
    assert [neutralise(t) for t in ("=1+1", "-2", "@a", "\tx", "ok", "")] == [
        "'=1+1", "'-2", "'@a", "'\tx", "ok", ""]
    assert [points(x) for x in (3.0, 2.5, 1 / 3, 0.0)] == ["3", "2.5", "0.3333", "0"]
    with pytest.raises(ValueError, match="never negative"):
        points(-1)
    with pytest.raises(ValueError, match="assignments/12345"):
        canvas_csv(ROWS, title="ps1", assignment_id=0)


def test_the_file_is_written_whole(tmp_path: Path) -> None:
    target = tmp_path / "out" / "canvas-ps1.csv"
    write(target, canvas_csv(ROWS[:1], title="ps1", assignment_id=7))
    assert target.read_text().startswith("Student,ID") and not list(target.parent.glob(".*"))


def rec(student: str, outcome: str) -> GradeRecord:
    return GradeRecord(student, "k", (NotebookRecord("ps1", outcome, "why"),))  # type: ignore[arg-type]


def test_final_scores_are_nbgrader_exports_and_ungradable_ones_are_empty() -> None:
    subs = {
        "canvas-111": SubmissionScore("canvas-111", raw=3.0, penalty=0.0, max_score=3.0),
        "canvas-222": SubmissionScore("canvas-222", raw=3.0, penalty=1.0, max_score=3.0),
        "canvas-333": SubmissionScore("canvas-333", raw=0.5, penalty=1.0, max_score=3.0),
        "canvas-444": SubmissionScore("canvas-444", raw=0.0, penalty=0.0, max_score=3.0),
        "canvas-555": SubmissionScore("canvas-555", raw=2.0, penalty=0.0, max_score=3.0),
        "jsmith": SubmissionScore("jsmith", raw=1.0, penalty=0.0, max_score=3.0),
    }
    records = {"canvas-444": rec("canvas-444", "not-gradable"),
               "canvas-555": rec("canvas-555", "machinery-failure"),
               "canvas-666": rec("canvas-666", "not-gradable"),  # never reached the gradebook
               "canvas-111": rec("canvas-111", "timeout")}
    roster = Roster.from_csv("Student,ID,nbgrader id\n\"Smith, Jo\",777,jsmith\n")
    rows = {r.student_id: r for r in final_rows(ClassScores("ps1", 3.0, ("a",), subs), records,
                                                lms="canvas", roster=roster)}
    assert {s: r.score for s, r in rows.items()} == {
        "canvas-111": 3.0, "canvas-222": 2.0, "canvas-333": 0.0, "canvas-444": None,
        "canvas-555": None, "canvas-666": None, "jsmith": 1.0}
    assert rows["jsmith"].lms_user_id == "777" and rows["jsmith"].name == "Smith, Jo"
    assert rows["canvas-666"].lms_user_id == "666" and rows["canvas-666"].max_score == 3.0
    moodle = final_rows(ClassScores("ps1", 3.0, (), subs), {}, lms="moodle")
    assert {r.lms_user_id for r in moodle} == {None}  # Canvas ids are not Moodle's


def test_the_readme_samples_are_what_the_export_writes() -> None:
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    text = readme[readme.index("## From the LMS and back"):readme.index("## The helper package")]
    samples = [block[:block.index("```")] for block in text.split("```csv\n")[1:]]
    canvas = canvas_csv([
        ExportRow("jsmith", "111", 3.0, 3.0, "Smith, John", "S1001", "jsmith", "Section A"),
        ExportRow("jsmith2", "222", 2.0, 3.0, "Smith, John", "S1002", "jsmith2", "Section B"),
        ExportRow("lee", "333", None, 3.0, "Lee, Ann")], title="ps1", assignment_id=12345)
    moodle = moodle_csv([ExportRow("moodle-12345", "12345", 2.5, 3.0, "Jane Doe"),
                         ExportRow("moodle-12346", "12346", None, 3.0, "John Smith")],
                        exported_at=datetime(2024, 6, 3, 10, 0, tzinfo=UTC))
    assert canvas.text in samples and moodle.text in samples
    roster = Roster.from_csv(samples[0])  # the roster sample reads as documented
    assert [(learner.student_id, learner.sis_login_id) for learner in roster] == [
        ("jsmith", "jsmith"), ("canvas-222", "jsmith2")]
