"""`python -m autograder grade`: a small class of ps1 end to end, against plain nbgrader.

One module-scoped class (7 learners: three honest ones, a deleted test cell, and the three
kinds of submission that break nbgrader: no notebook of the right name, invalid JSON, a kernel
that exits) is graded once by plain `nbgrader autograde` and once by the class command; the tests
read what each left behind. The class command runs as instructors run it (in the sandbox when
bubblewrap is there); the re-run and Dask tests use `--no-sandbox` to stay fast. Then: a re-run
grades nothing, a changed submission is regraded, a Dask cluster grades the same, and `collect`
refuses unsafe uploads.
"""

from __future__ import annotations

import csv
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
import pytest

from autograder.release import run_nbgrader
from tests.support import fakeclass
from tests.support.course import Course
from tests.support.fakeclass import Learner
from tests.support.paths import REPO, tool_env

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("class_grading")]

LEARNERS = [
    Learner("ana", "reference"),
    Learner("ben", "mixed"),
    Learner("cal", "blank"),
    Learner("dee", "deleted-test"),
    Learner("eve", "missing"),
    Learner("fin", "invalid-json"),
    Learner("gus", "kernel-dies"),
]
HONEST = ["ana", "ben", "cal", "dee"]


def grade(course: Path, *args: str, code: int = 0) -> subprocess.CompletedProcess[str]:
    """The class command, as an instructor runs it in the course folder."""
    env = tool_env()
    env["PYTHONPATH"] = str(REPO)
    env["MPLBACKEND"] = "Agg"
    done = subprocess.run([sys.executable, "-m", "autograder", "grade", "ps1", "--quiet", *args],
                          cwd=course, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == code, done.stdout + done.stderr
    return done


def csv_rows(path: Path) -> dict[str, dict[str, str]]:
    return {row["student_id"]: row for row in csv.DictReader(path.open())}


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Course, Course, str]:
    """(class-command course, plain-nbgrader course, the command's printed summary)."""
    root = tmp_path_factory.mktemp("class")
    course = Course.create(root / "course", ["ps1"])
    fakeclass.submit(course, LEARNERS)
    plain = Course(root / "plain")
    shutil.copytree(course.root, plain.root)
    # nbgrader exits 1 for the broken submissions but grades the others.
    run_nbgrader("autograde", "ps1", cwd=plain.root, check=False)
    done = grade(course.root, "--workers", "2", "--feedback")
    return course, plain, done.stdout


def test_honest_grades_equal_plain_nbgrader(graded: tuple[Course, Course, str]) -> None:
    course, plain, _ = graded
    ours, theirs = course.results("ps1"), plain.results("ps1")
    assert {s: ours[s] for s in HONEST} == {s: theirs[s] for s in HONEST}
    # the answers are graded as their kinds deserve, not merely alike
    assert ours["ana"].full_marks and ours["dee"].full_marks
    assert ours["cal"].score == 0


def test_broken_submissions_get_no_score_or_zero_with_a_reason(
        graded: tuple[Course, Course, str]) -> None:
    course, _, summary = graded
    rows = csv_rows(course.root / "grades-ps1.csv")
    assert sorted(rows) == sorted(learner.student for learner in LEARNERS)
    max_score = course.results("ps1")["ana"].max_score
    expected = {  # not gradable: no score at all; the kernel died: the learner's code, 0
        "eve": ("not gradable", "no notebook named ps1.ipynb (found: ps1 (1).ipynb)", ""),
        "fin": ("not gradable", "ps1.ipynb is not valid JSON", ""),
        "gus": ("kernel died", "the kernel died (exit code 1) in cell", "0"),
    }
    for student, (status, reason, score) in expected.items():
        assert rows[student]["status"] == status
        assert reason in rows[student]["reason"]
        assert rows[student]["score"] == score
        assert float(rows[student]["max_score"]) == max_score
        assert f"{student}: {rows[student]['reason']}" in summary
    assert "eve" not in course.results("ps1") and "fin" not in course.results("ps1")
    assert all(g.score == 0 for g in course.results("ps1")["gus"].grades.values())
    died, _, review = rows["gus"]["reason"].partition("; marked for review: ")
    assert "os._exit" not in died and "`import os`" in died  # the cell, named by its first line
    assert review.endswith("calls os._exit")  # the static scan (autograder/scan.py)
    assert "restored" in rows["dee"]["reason"] and rows["dee"]["status"] == "graded"
    for student in HONEST[:3]:
        assert rows[student]["status"] == "graded" and rows[student]["reason"] == ""


def test_summary_and_csv_columns(graded: tuple[Course, Course, str]) -> None:
    course, _, summary = graded
    header = (course.root / "grades-ps1.csv").read_text().splitlines()[0].split(",")
    questions = fakeclass.graded_cells(course)
    assert header == ["student_id", "assignment", "score", "max_score", "late_penalty",
                      *questions, "status", "reason"]
    assert "7 submissions: 7 graded now, 0 unchanged" in summary
    assert "Full marks per question:" in summary and all(q in summary for q in questions)
    assert "Most common mistakes:" in summary and "NotImplementedError" in summary
    assert "Not gradable (2, no score; their feedback says how to resubmit):" in summary
    assert "Stopped running (1, scored 0 from there on):\n  gus: the kernel died" in summary


def test_feedback_and_nbgrader_export_still_work(graded: tuple[Course, Course, str]) -> None:
    course, _, _ = graded
    died = (course.root / "feedback" / "gus" / "ps1" / "ps1.html").read_text()
    assert "the kernel died (exit code 1) in cell" in died and "graded 0 points" in died
    missing = (course.root / "feedback" / "eve" / "ps1" / "ps1.html").read_text()
    assert "no notebook named ps1.ipynb" in missing and "To resubmit" in missing
    assert "0 points" not in missing
    blank = (course.root / "feedback" / "cal" / "ps1" / "ps1.html").read_text()
    assert "The tests found these mistakes" in blank and "NotImplementedError" in blank
    course.nbgrader("export")
    exported = {r["student_id"]: r for r in csv.DictReader((course.root / "grades.csv").open())}
    assert float(exported["ana"]["score"]) == course.results("ps1")["ana"].max_score
    assert float(exported["gus"]["score"]) == 0.0
    # nbgrader's own export writes 0 for every learner without a submission (eve, fin);
    # ours leaves their score empty (checked above)


def test_rerun_grades_only_new_or_changed_and_survives_ctrl_c(
        graded: tuple[Course, Course, str]) -> None:
    course, _, _ = graded
    again = grade(course.root, "--no-sandbox")
    assert "7 submissions: 0 graded now, 7 unchanged" in again.stdout
    # three learners submit again: ben blanks, cal answers everything, fin's upload arrives
    # whole, with a first cell that waits for a gate file: Ctrl-C lands while fin's notebook is
    # running (the jobs run in student order on one worker), after ben's and cal's are recorded
    fakeclass.submit(course, [Learner("cal", "reference"), Learner("fin", "reference"),
                              Learner("ben", "blank")])
    gate = Path(tempfile.gettempdir()) / f"asyncourse-gate-{os.getpid()}-{time.time_ns()}"
    waits = fakeclass.answer(course, Learner("fin", "reference"))
    waits.cells.insert(0, nbformat.v4.new_code_cell(  # no path in the source: the scan flags those
        f"import os, tempfile, time\ngate = os.path.join(tempfile.gettempdir(), {gate.name!r})\n"
        "while not os.path.exists(gate):\n    time.sleep(0.05)"))
    nbformat.write(waits, course.root / "submitted" / "fin" / "ps1" / "ps1.ipynb")
    log = course.root / ".grading" / "ps1.jsonl"
    recorded = len(log.read_text().splitlines())
    env = tool_env()
    env["PYTHONPATH"] = str(REPO)
    proc = subprocess.Popen([sys.executable, "-m", "autograder", "grade", "ps1", "--quiet",
                             "--no-sandbox", "--workers", "1"], cwd=course.root, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while len(log.read_text().splitlines()) < recorded + 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert proc.poll() is None, "the run ended before Ctrl-C, with fin's notebook still waiting"
    proc.send_signal(signal.SIGINT)  # Ctrl-C: ben and cal are in, fin's notebook is running
    time.sleep(0.5)
    gate.touch()  # fin's running notebook may end now; the interrupted run must not record it
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, out + err
    assert "Interrupted:" in out and "run the same command again" in out
    again = grade(course.root, "--no-sandbox")
    assert "7 submissions: 1 graded now, 6 unchanged" in again.stdout  # only fin was left
    gate.unlink()
    rows = csv_rows(course.root / "grades-ps1.csv")
    assert rows["cal"]["score"] == rows["fin"]["score"] == rows["ana"]["score"]
    assert rows["ben"]["score"] == "0"
    assert rows["fin"]["status"] == "graded" and rows["gus"]["status"] == "kernel died"


def test_a_feedback_page_that_cannot_be_written_fails_the_run_not_the_grade(
        graded: tuple[Course, Course, str]) -> None:
    course, _, _ = graded
    folder = course.root / "feedback" / "ana"
    shutil.rmtree(folder)
    folder.write_text("a file where nbgrader makes ana's feedback folder")
    try:
        done = grade(course.root, "--student", "ana", "--feedback", "--no-sandbox", code=1)
    finally:
        folder.unlink()
    assert "Feedback could not be written for ana (their grades are recorded)" in done.stdout
    assert "feedback for ana failed" in done.stderr
    rows = csv_rows(course.root / "grades-ps1.csv")
    assert rows["ana"]["status"] == "graded"  # her grade was recorded: full marks, as before
    assert float(rows["ana"]["score"]) == float(rows["ana"]["max_score"])

