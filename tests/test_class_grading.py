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
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

from autograder.grading.collect import collect
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


def grade(course: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The class command, as an instructor runs it in the course folder."""
    env = tool_env()
    env["PYTHONPATH"] = str(REPO)
    env["MPLBACKEND"] = "Agg"
    done = subprocess.run([sys.executable, "-m", "autograder", "grade", "ps1", "--quiet", *args],
                          cwd=course, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
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


def test_broken_submissions_score_zero_with_a_reason(graded: tuple[Course, Course, str]) -> None:
    course, _, summary = graded
    rows = csv_rows(course.root / "grades-ps1.csv")
    assert sorted(rows) == sorted(learner.student for learner in LEARNERS)
    expected = {
        "eve": ("not gradable", "no notebook named ps1.ipynb (found: ps1 (1).ipynb)"),
        "fin": ("not gradable", "ps1.ipynb is not valid JSON"),
        "gus": ("kernel died", "the kernel died (exit code 1) in cell"),
    }
    for student, (status, reason) in expected.items():
        assert rows[student]["status"] == status
        assert reason in rows[student]["reason"]
        assert rows[student]["score"] == "0"
        assert float(rows[student]["max_score"]) == course.results("ps1")["ana"].max_score
        assert f"{student}: {rows[student]['reason']}" in summary
        assert all(g.score == 0 for g in course.results("ps1")[student].grades.values())
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
    assert header == ["student_id", "assignment", "score", "max_score", *questions, "status",
                      "reason"]
    assert "7 submissions: 7 graded now, 0 unchanged" in summary
    assert "Full marks per question:" in summary and all(q in summary for q in questions)
    assert "Most common mistakes:" in summary and "NotImplementedError" in summary
    assert "Could not be graded (3, scored 0)" in summary


def test_feedback_and_nbgrader_export_still_work(graded: tuple[Course, Course, str]) -> None:
    course, _, _ = graded
    died = (course.root / "feedback" / "gus" / "ps1" / "ps1.html").read_text()
    assert "the kernel died (exit code 1) in cell" in died and "graded 0 points" in died
    missing = (course.root / "feedback" / "eve" / "ps1" / "ps1.html").read_text()
    assert "no notebook named ps1.ipynb" in missing
    blank = (course.root / "feedback" / "cal" / "ps1" / "ps1.html").read_text()
    assert "The tests found these mistakes" in blank and "NotImplementedError" in blank
    course.nbgrader("export")
    exported = {r["student_id"]: r for r in csv.DictReader((course.root / "grades.csv").open())}
    assert float(exported["ana"]["score"]) == course.results("ps1")["ana"].max_score
    assert float(exported["gus"]["score"]) == 0.0


def test_rerun_grades_only_new_or_changed_and_survives_ctrl_c(
        graded: tuple[Course, Course, str]) -> None:
    course, _, _ = graded
    again = grade(course.root, "--no-sandbox")
    assert "7 submissions: 0 graded now, 7 unchanged" in again.stdout
    # three learners submit again: cal answers everything, fin's upload arrives whole, ben blanks
    fakeclass.submit(course, [Learner("cal", "reference"), Learner("fin", "reference"),
                              Learner("ben", "blank")])
    log = course.root / ".grading" / "ps1.jsonl"
    recorded = len(log.read_text().splitlines())
    env = tool_env()
    env["PYTHONPATH"] = str(REPO)
    proc = subprocess.Popen([sys.executable, "-m", "autograder", "grade", "ps1", "--quiet",
                             "--no-sandbox", "--workers", "1"], cwd=course.root, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while len(log.read_text().splitlines()) == recorded and time.monotonic() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)  # Ctrl-C after the first result is in
    out, err = proc.communicate(timeout=120)
    if proc.returncode == 0:  # all three finished before the signal arrived: nothing to resume
        pytest.skip("the run finished before Ctrl-C")
    assert proc.returncode == 130, out + err
    assert "Interrupted:" in out and "run the same command again" in out
    again = grade(course.root, "--no-sandbox")
    match = re.search(r"7 submissions: (\d+) graded now, (\d+) unchanged", again.stdout)
    assert match and 1 <= int(match[1]) <= 2, again.stdout  # only what Ctrl-C left undone
    rows = csv_rows(course.root / "grades-ps1.csv")
    assert rows["cal"]["score"] == rows["fin"]["score"] == rows["ana"]["score"]
    assert rows["ben"]["score"] == "0"
    assert rows["fin"]["status"] == "graded" and rows["gus"]["status"] == "kernel died"


def test_dask_cluster_grades_the_same(graded: tuple[Course, Course, str],
                                      tmp_path: Path) -> None:
    from distributed import LocalCluster

    _, plain, _ = graded
    course = Course.create(tmp_path / "course", ["ps1"])
    fakeclass.submit(course, [x for x in LEARNERS if x.student in ("ana", "cal", "gus")])
    with LocalCluster(n_workers=2, processes=True, host="127.0.0.1", threads_per_worker=1,
                      dashboard_address=None) as cluster:
        done = grade(course.root, "--scheduler", cluster.scheduler_address, "--no-sandbox")
    assert "3 submissions: 3 graded now" in done.stdout
    ours, theirs = course.results("ps1"), plain.results("ps1")
    assert ours["ana"] == theirs["ana"] and ours["cal"] == theirs["cal"]
    assert csv_rows(course.root / "grades-ps1.csv")["gus"]["status"] == "kernel died"


def _zip(path: Path, members: dict[str, bytes], links: tuple[str, ...] = ()) -> None:
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
        for name in links:
            info = zipfile.ZipInfo(name)
            info.external_attr = 0o120777 << 16  # a symbolic link
            zf.writestr(info, "/etc/passwd")


def test_collect_imports_lms_downloads_and_refuses_unsafe_ones(tmp_path: Path) -> None:
    course = tmp_path / "course"
    (course / "submitted").mkdir(parents=True)
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    good = json.dumps({"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5})
    (downloads / "ana.ipynb").write_text(good)
    _zip(downloads / "ben_1234_5678_ps1.zip", {"ps1/ps1.ipynb": good.encode(),
                                               "ps1/data.csv": b"1,2\n"})
    _zip(downloads / "cai.zip", {"../../escape.ipynb": b"{}", "ps1.ipynb": good.encode()})
    _zip(downloads / "dee.zip", {"ps1.ipynb": good.encode()}, links=("secret.txt",))
    _zip(downloads / "eve.zip", {"homework.ipynb": good.encode()})
    (downloads / "fin.txt").write_text("my answer is 42")
    subs = {s.student: s for s in collect(course, "ps1", "ps1", downloads)}
    assert subs["ana"].problem is None and subs["ben"].problem is None
    assert (course / "submitted" / "ben" / "ps1" / "data.csv").read_bytes() == b"1,2\n"
    assert "unsafe member '../../escape.ipynb'" in (subs["cai"].problem or "")
    assert "symbolic link 'secret.txt'" in (subs["dee"].problem or "")
    assert subs["eve"].problem == "no notebook named ps1.ipynb (found: homework.ipynb)"
    assert "neither a notebook" in (subs["fin"].problem or "")
    assert not (tmp_path / "escape.ipynb").exists() and not (course / "escape.ipynb").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["course", "downloads"]


def test_collect_refuses_a_symlinked_notebook(tmp_path: Path) -> None:
    folder = tmp_path / "submitted" / "ana" / "ps1"
    folder.mkdir(parents=True)
    os.symlink(tmp_path / "gradebook.db", folder / "ps1.ipynb")
    (sub,) = collect(tmp_path, "ps1", "ps1")
    assert sub.problem == "ps1.ipynb is a symbolic link, not a notebook file"
    assert repr(sub).startswith("Submission(ana/ps1, problem=")
