"""The LMS export reads nbgrader's gradebook as ``nbgrader export`` does: the same final score
for every learner (late penalty subtracted, never below 0), an on-time and a late learner, and an
empty cell for a learner whose outcome says they could not be graded."""

from __future__ import annotations

import csv
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from autograder.grading.errors import CourseError
from autograder.grading.records import GradeRecord, GradingState, NotebookRecord
from autograder.lms import cli
from autograder.lms.grades import read_gradebook
from tests.support.paths import tool_env

pytestmark = [pytest.mark.slow,  # opens nbgrader's gradebook (nbgrader.api, sqlite)
              # nbgrader's own add_submission warns about its session handling
              pytest.mark.filterwarnings("ignore::sqlalchemy.exc.SAWarning")]


@pytest.fixture(autouse=True)
def _alembic_on_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """nbgrader runs ``alembic`` by name when it creates a gradebook."""
    monkeypatch.setenv("PATH", tool_env()["PATH"])

DUE = datetime(2024, 3, 1, 12, 0)


def _course(root: Path) -> Path:
    from nbgrader.api import Gradebook

    root.mkdir()
    (root / "nbgrader_config.py").write_text(
        "c = get_config()\nc.CourseDirectory.course_id = 'lms-test'\n")
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}", "lms-test") as gb:
        gb.add_assignment("ps1", duedate=DUE)
        gb.add_notebook("ps1", "ps1")
        gb.add_grade_cell("q1", "ps1", "ps1", max_score=2.0, cell_type="code")
        gb.add_grade_cell("q2", "ps1", "ps1", max_score=1.0, cell_type="code")
        for sid, late, points, penalty in (("canvas-111", False, (2.0, 1.0), 0.0),
                                           ("canvas-222", True, (2.0, 1.0), 1.0),
                                           ("canvas-333", True, (0.5, 0.0), 1.0),
                                           ("canvas-444", False, (0.0, 0.0), 0.0)):
            gb.add_student(sid)
            when = DUE + (timedelta(hours=5) if late else -timedelta(hours=1))
            gb.add_submission("ps1", sid, timestamp=when)
            for cell, score in zip(("q1", "q2"), points, strict=True):
                gb.find_grade(cell, "ps1", "ps1", sid).auto_score = score
            gb.find_submission_notebook("ps1", "ps1", sid).late_submission_penalty = penalty
        gb.add_student("canvas-555")  # enrolled in nbgrader, submitted nothing
        gb.db.commit()
    GradingState(root / ".grading" / "ps1.jsonl").add(GradeRecord(
        "canvas-444", "k", (NotebookRecord("ps1", "not-gradable", "no notebook"),)))
    return root


def test_the_final_score_is_nbgrader_exports(tmp_path: Path) -> None:
    from nbgrader.api import Gradebook
    from nbgrader.plugins.export import CsvExportPlugin

    course = _course(tmp_path / "course")
    scores = read_gradebook(course, "ps1")
    assert scores.max_score == 3.0 and scores.grade_ids == ("q1", "q2")
    assert {s: (sub.raw, sub.penalty, sub.final) for s, sub in scores.submissions.items()} == {
        "canvas-111": (3.0, 0.0, 3.0), "canvas-222": (3.0, 1.0, 2.0),
        "canvas-333": (0.5, 1.0, 0.0), "canvas-444": (0.0, 0.0, 0.0)}
    assert scores.feedback["canvas-111"] == course / "feedback" / "canvas-111" / "ps1"
    theirs = tmp_path / "nbgrader-export.csv"
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", "lms-test") as gb:
        CsvExportPlugin(to=str(theirs)).export(gb)
    nbgrader = {r["student_id"]: float(r["score"]) for r in csv.DictReader(theirs.open())}
    assert {s: sub.final for s, sub in scores.submissions.items()} == {
        s: v for s, v in nbgrader.items() if s in scores.submissions}

    assert cli.export_main(["ps1", "--course", str(course), "--format", "canvas",
                            "--canvas-assignment-id", "9"]) == 0
    assert (course / "canvas-ps1.csv").read_text().splitlines()[1:] == [
        "canvas-111,111,,,,3", "canvas-222,222,,,,2", "canvas-333,333,,,,0",
        "canvas-444,444,,,,"]  # 0 earned vs. could not be graded: empty


def test_reading_never_creates_a_gradebook(tmp_path: Path) -> None:
    (tmp_path / "nbgrader_config.py").write_text("c = get_config()\n")
    with pytest.raises(CourseError, match="no gradebook"):
        read_gradebook(tmp_path, "ps1")
    assert not (tmp_path / "gradebook.db").exists()
    course = _course(tmp_path / "course")
    with pytest.raises(CourseError, match="no assignment 'ps9'"):
        read_gradebook(course, "ps9")
