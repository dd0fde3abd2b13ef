"""Any nbgrader course: an assignment of two notebooks (``tests/support/pair.py``) graded by the
class command and by plain ``nbgrader autograde`` gets the same auto scores in every cell; the
manually graded answer is left to the formgrader in both; the data file reaches every notebook;
the canary runs every notebook; the CSV has a column per graded cell across notebooks.

One learner (ana) works as through JupyterLab's Assignment List: fetches the assignment from
nbgrader's exchange, submits it there, the instructor collects it; ``--release-feedback`` then
puts her feedback where her own ``fetch_feedback`` (what the Assignment List runs) finds it. The
exchange steps run nbgrader's own exchange classes in this process (a command each would cost
seconds of start-up)."""

from __future__ import annotations

import csv
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.support import pair
from tests.support.course import COURSE_ID, Course
from tests.support.paths import REPO, tool_env

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("multi_notebook")]

LEARNERS = {"ana": "reference", "ben": "mixed", "dee": "half"}  # ana through the exchange


def exchange(kind: str, course: Course, home: Path, student: str = "*") -> None:
    """Run nbgrader's exchange step `kind` ("ReleaseAssignment", "FetchAssignment", "Submit",
    "Collect", "FetchFeedback") for the course, a learner working in `home`."""
    from nbgrader import exchange as nbexchange
    from nbgrader.auth import Authenticator
    from nbgrader.coursedir import CourseDirectory
    from traitlets.config import Config

    config = Config()
    config.CourseDirectory.course_id = COURSE_ID
    config.CourseDirectory.root = str(course.root)
    config.CourseDirectory.assignment_id = pair.ASSIGNMENT
    config.CourseDirectory.student_id = student
    config.Exchange.root = str(course.root / ".exchange")
    config.Exchange.cache = str(home / ".nbgrader-cache")
    config.Exchange.assignment_dir = str(home)
    action = getattr(nbexchange.default, f"Exchange{kind}")
    action(coursedir=CourseDirectory(config=config), authenticator=Authenticator(config=config),
           config=config).start()


def cells(course: Course) -> dict[tuple[str, str, str], tuple[Any, ...]]:
    """(student, notebook, cell) -> (auto score, needs manual grade, manual score)."""
    from nbgrader.api import Gradebook

    with Gradebook(course.db_url, COURSE_ID) as gb:
        return {(sub.student.id, nb.name, grade.name): (grade.auto_score,
                                                        bool(grade.needs_manual_grade),
                                                        grade.manual_score)
                for sub in gb.assignment_submissions(pair.ASSIGNMENT)
                for nb in sub.notebooks for grade in nb.grades}


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Course, Course, str]:
    root = tmp_path_factory.mktemp("pair")
    course = pair.create(root / "course")
    for student, kind in LEARNERS.items():
        pair.submit(course, student, kind)
    # ana: through the exchange, as from JupyterLab's Assignment List
    shutil.rmtree(course.root / "submitted" / "ana")
    home = root / "ana-home"
    exchange("ReleaseAssignment", course, home)
    exchange("FetchAssignment", course, home, "ana")
    for notebook in pair.NOTEBOOKS:
        shutil.copyfile(course.root / "release" / pair.ASSIGNMENT / f"{notebook}.ipynb",
                        home / pair.ASSIGNMENT / f"{notebook}.ipynb")  # before answering
    pair.submit(course, "ana", "reference")  # her answers, written where she works:
    for notebook in pair.NOTEBOOKS:
        shutil.move(course.root / "submitted" / "ana" / pair.ASSIGNMENT / f"{notebook}.ipynb",
                    home / pair.ASSIGNMENT / f"{notebook}.ipynb")
    shutil.rmtree(course.root / "submitted" / "ana")
    exchange("Submit", course, home, "ana")
    exchange("Collect", course, home)
    assert (course.root / "submitted" / "ana" / pair.ASSIGNMENT / "submission_secret.txt").exists()
    plain = Course(root / "plain")
    shutil.copytree(course.root, plain.root)
    plain.nbgrader("autograde", pair.ASSIGNMENT)
    env = tool_env()
    env["PYTHONPATH"] = str(REPO)
    done = subprocess.run([sys.executable, "-m", "autograder", "grade", pair.ASSIGNMENT,
                           "--quiet", "--no-sandbox", "--workers", "2", "--feedback",
                           "--release-feedback"], cwd=course.root,
                          env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "canary: the reference passes" in done.stderr  # both notebooks, with the data file
    exchange("FetchFeedback", course, home, "ana")  # what her Assignment List runs
    return course, plain, done.stdout


def test_the_class_command_scores_every_cell_as_nbgrader_autograde(
        graded: tuple[Course, Course, str]) -> None:
    course, plain, _ = graded
    ours, theirs = cells(course), cells(plain)
    assert ours == theirs
    assert len(ours) == len(LEARNERS) * 5  # 2 + 3 graded cells, per learner
    # graded as the answers deserve, not merely alike
    assert ours["ana", "part1", "test_load_values"][0] == 2  # read values.csv beside it
    assert ours["ana", "part2", "test_largest"][0] == 1
    assert ours["ben", "part1", "test_total"][0] == 0 and ours["ben", "part1",
                                                              "test_load_values"][0] == 2
    assert ours["ben", "part2", "test_largest"][0] == 0  # its cell raised
    assert all(ours["dee", "part2", c][0] == 0 for c in ("test_largest", "test_total"))
    # the written answer is the formgrader's: no auto score, no manual score, flagged
    assert ours["ana", "part2", "explain"] == (None, True, None)
    assert ours["ben", "part2", "explain"] == (0, False, None)  # left as released: nbgrader's 0


def test_the_csv_has_a_column_per_graded_cell_across_notebooks(
        graded: tuple[Course, Course, str]) -> None:
    course, _, summary = graded
    with (course.root / "grades-pair.csv").open() as fh:
        rows = {r["student_id"]: r for r in csv.DictReader(fh)}
    assert list(rows["ana"])[:11] == [
        "student_id", "assignment", "score", "max_score", "late_penalty", "test_load_values",
        "part1/test_total", "test_largest", "part2/test_total", "explain", "status"]
    assert (rows["ana"]["score"], rows["ana"]["max_score"]) == ("5", "7")
    assert rows["ana"]["status"] == "graded (needs manual grading)"
    assert rows["dee"]["reason"] == "no part2.ipynb was submitted: its questions score 0"
    assert "3 submissions: 3 graded now" in summary


def test_feedback_is_released_to_the_learner_who_submitted_through_the_exchange(
        graded: tuple[Course, Course, str]) -> None:
    course, _, summary = graded
    assert "Feedback released through nbgrader's exchange to 1 learners" in summary
    (fetched,) = (course.root.parent / "ana-home" / pair.ASSIGNMENT / "feedback").iterdir()
    assert sorted(p.name for p in fetched.glob("*.html")) == ["part1.html", "part2.html"]
    html = (fetched / "part1.html").read_text()
    assert "test_load_values" in html and "(Score: 2.0 / 2.0)" in html
    for student in ("ben", "dee"):  # handed in otherwise (an LMS): nothing in the exchange
        assert (course.root / "feedback" / student / pair.ASSIGNMENT / "part1.html").exists()
    released = list((course.root / ".exchange" / COURSE_ID / "feedback").glob("*.html"))
    assert len(released) == 2


def test_a_rerun_grades_only_the_learner_whose_notebook_changed(
        graded: tuple[Course, Course, str]) -> None:
    course, _, _ = graded
    env = tool_env()
    env["PYTHONPATH"] = str(REPO)
    command = [sys.executable, "-m", "autograder", "grade", pair.ASSIGNMENT, "--quiet",
               "--no-sandbox", "--no-canary", "--workers", "2"]
    pair.submit(course, "ben", "reference")  # ben hands in again: both notebooks right
    again = subprocess.run(command, cwd=course.root, env=env, capture_output=True, text=True,
                           timeout=300)
    assert "3 submissions: 1 graded now, 2 unchanged" in again.stdout, again.stderr
    assert cells(course)["ben", "part1", "test_total"][0] == 1
