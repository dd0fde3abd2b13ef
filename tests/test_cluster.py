"""The README's cluster recipe, as written, with real `dask scheduler` and `dask worker` processes,
and what happens when the grading machinery fails: no grade is written, replaced or exported.

The processes run from a folder outside the course, with nothing but the course's virtualenv
(`bin/` first on PATH, as an activated venv has it), so the workers import the grader because the
course installed it, not because they happen to run in the repository.
"""

from __future__ import annotations

import csv
import hashlib
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.support import fakeclass
from tests.support.course import Course
from tests.support.fakeclass import Learner
from tests.support.paths import tool_env

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("cluster")]

CLASS = [Learner("ana", "reference"), Learner("ben", "mixed"), Learner("cal", "blank")]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in tool_env().items() if k != "PYTHONPATH"}
    env.update(extra)
    return env


@contextmanager
def cluster(workdir: Path, **worker_env: str) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """`dask scheduler` and `dask worker ADDRESS --nworkers 2 --nthreads 1`, as the README says."""
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    dask = str(Path(sys.executable).with_name("dask"))
    log = workdir / "dask.log"
    with open(log, "ab") as out:
        scheduler = subprocess.Popen(
            [dask, "scheduler", "--host", "127.0.0.1", "--port", str(port),
             "--dashboard-address", ":0"], cwd=workdir, env=_env(), stdout=out, stderr=out)
        workers = subprocess.Popen(
            [dask, "worker", address, "--nworkers", "2", "--nthreads", "1", "--no-dashboard"],
            cwd=workdir, env=_env(**worker_env), stdout=out, stderr=out, start_new_session=True)
    try:
        yield address, workers
    finally:
        for proc in (workers, scheduler):
            if proc.poll() is None:
                os.killpg(proc.pid, 9) if proc is workers else proc.kill()
            proc.wait(timeout=30)


def grade(course: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "autograder", "grade", "ps1", "--quiet", *args],
                          cwd=course, env=_env(**env), capture_output=True, text=True,
                          timeout=600)


def fingerprint(course: Path) -> tuple[str, str]:
    """The gradebook's rows and the CSV's bytes."""
    import sqlite3

    db = sqlite3.connect(course / "gradebook.db")
    try:
        rows = db.execute("SELECT * FROM grade ORDER BY id").fetchall()
    finally:
        db.close()
    csv_bytes = (course / "grades-ps1.csv").read_bytes()
    return (hashlib.sha256(repr(rows).encode()).hexdigest(),
            hashlib.sha256(csv_bytes).hexdigest())


def scores(course: Path) -> dict[str, dict[str, str]]:
    with open(course / "grades-ps1.csv") as fh:
        return {r["student_id"]: {k: v for k, v in r.items() if k.startswith(("score", "test"))}
                for r in csv.DictReader(fh)}


@pytest.fixture(scope="module")
def graded_locally(tmp_path_factory: pytest.TempPathFactory) -> Course:
    course = Course.create(tmp_path_factory.mktemp("local") / "course", ["ps1"])
    fakeclass.submit(course, CLASS)
    done = grade(course.root, "--workers", "2")
    assert done.returncode == 0, done.stdout + done.stderr
    return course


def copy_of(course: Course, tmp_path: Path) -> Path:
    target = tmp_path / "course"
    shutil.copytree(course.root, target, symlinks=True)
    return target


def test_the_readme_recipe_grades_the_same_as_the_local_pool(
        graded_locally: Course, tmp_path: Path) -> None:
    course = copy_of(graded_locally, tmp_path)
    with cluster(tmp_path) as (address, _):
        done = grade(course, "--scheduler", address, "--force")
    assert done.returncode == 0, done.stdout + done.stderr + (tmp_path / "dask.log").read_text()
    assert scores(course) == scores(graded_locally.root)
    assert re.search(r"on the Dask cluster at tcp://127\.0\.0\.1:\d+ \(2 workers",
                     done.stdout), done.stdout
    assert "canary: the reference passes" in done.stderr and "on each of 2 workers" in done.stderr


def test_workers_that_cannot_import_the_grader_change_nothing(
        graded_locally: Course, tmp_path: Path) -> None:
    course = copy_of(graded_locally, tmp_path)
    fake = tmp_path / "shadow" / "autograder"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text("raise ImportError('this worker has no grader')\n")
    before = fingerprint(course)
    with cluster(tmp_path, PYTHONPATH=str(fake.parent)) as (address, _):
        done = grade(course, "--scheduler", address, "--force")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "cannot import the grader" in done.stderr and "error:" in done.stderr
    assert done.stderr.count("\n") <= 3, done.stderr  # one line that says what to fix
    assert fingerprint(course) == before


def test_workers_lost_after_the_canary_change_nothing(
        graded_locally: Course, tmp_path: Path) -> None:
    course = copy_of(graded_locally, tmp_path)
    before = fingerprint(course)
    with cluster(tmp_path) as (address, workers):
        proc = subprocess.Popen(
            [sys.executable, "-m", "autograder", "grade", "ps1", "--quiet", "--force",
             "--scheduler", address, "--worker-timeout", "5"], cwd=course, env=_env(),
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        assert proc.stderr is not None
        seen = ""
        deadline = time.monotonic() + 300
        while "canary:" not in seen and time.monotonic() < deadline:
            seen += proc.stderr.readline()
        os.killpg(workers.pid, 9)  # every worker dies once the canary has passed
        out, err = proc.communicate(timeout=300)
    assert proc.returncode == 1, out + err
    assert "NOT GRADED: the grading machinery failed for 3 submissions" in out
    assert fingerprint(course) == before


def test_a_kernel_that_cannot_import_the_helper_package_changes_nothing(
        graded_locally: Course, tmp_path: Path) -> None:
    course = copy_of(graded_locally, tmp_path)
    fake = tmp_path / "shadow" / "asyncourse"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text("raise ImportError('the course moved')\n")
    before = fingerprint(course)
    done = grade(course, "--force", "--no-sandbox", PYTHONPATH=str(fake.parent))
    assert done.returncode == 1, done.stdout + done.stderr
    assert "the reference solution does not pass here" in done.stderr
    assert "ImportError: the course moved" in done.stderr
    assert fingerprint(course) == before
