"""Run: one job per submission, plain data in and out, on any `concurrent.futures.Executor`.

A job never touches the gradebook or the course folder: it gets the notebook already prepared by
the parent (tests restored from the gradebook) and the files the notebook may read, runs it with
an `autograder.execution` backend, and returns the executed notebook as JSON with each cell's
verdict, an outcome and a reason. That keeps the gradebook single-writer, and lets the same job
run in a local process pool or on Dask workers on other machines.
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from autograder.execution import (
    Backend,
    BackendUnavailable,
    CellRun,
    Limits,
    RunOutcome,
    describe_cell,
    make_backend,
)

__all__ = ["GradingJob", "JobResult", "backend_problem", "run_job", "warm_worker"]

PYTHONHASHSEED = "0"


@dataclass(frozen=True)
class GradingJob:
    """Everything a worker needs to run one notebook of one submission (picklable)."""

    student: str
    assignment: str
    notebook_id: str
    notebook: str  # the prepared notebook, JSON
    resume_key: str  # identifies submission + assignment version
    files: dict[str, bytes] = field(default_factory=dict)
    limits: Limits = field(default_factory=Limits)
    sandbox: bool = True
    hidden: tuple[str, ...] = ()  # folders the sandbox must never show (the course)

    def env(self) -> dict[str, str]:
        """Fixed hash seed (set/dict order) for every run; `random` is seeded at kernel start."""
        return {"PYTHONHASHSEED": PYTHONHASHSEED, "NBGRADER_EXECUTION": "autograde"}

    def __repr__(self) -> str:
        return f"GradingJob({self.student}/{self.assignment}, {len(self.notebook)} bytes)"


@dataclass(frozen=True)
class JobResult:
    """What came back: the executed notebook (JSON, None if nothing ran) and how it ended."""

    student: str
    assignment: str
    notebook_id: str
    resume_key: str
    notebook: str | None
    outcome: RunOutcome
    reason: str
    failed_cell: int | None = None
    cells: tuple[CellRun, ...] = ()
    seconds: float = 0.0
    worker: str = ""
    integrity: str | None = None  # the first tampering the guard saw (later tests scored 0)

    def __repr__(self) -> str:
        return (f"JobResult({self.student}/{self.assignment}, {self.outcome}, "
                f"{self.seconds:.2f}s on {self.worker})")


_backends: dict[tuple[bool, tuple[str, ...]], Backend] = {}
_backends_lock = threading.Lock()
#: ``AUTOGRADER_START=cold`` runs every notebook as a cold sandbox (or process), never forked
#: from a warm template: for comparing the two, or where a template misbehaves.
START = "AUTOGRADER_START"


def _backend(sandbox: bool, hidden: tuple[str, ...]) -> Backend:
    """One backend per kind in this process, so its template and pre-started runner are reused:
    the warm start where its template starts here, else the cold one."""
    with _backends_lock:
        key = (sandbox, hidden)
        if key not in _backends:
            _backends[key] = _choose(sandbox, hidden)
        return _backends[key]


def _choose(sandbox: bool, hidden: tuple[str, ...]) -> Backend:
    paths = [Path(h) for h in hidden]
    if os.environ.get(START, "warm") != "cold":
        warm = make_backend(sandbox=sandbox, hidden=paths, warm=True)
        try:
            warm.check()
            return warm
        except BackendUnavailable:
            warm.close()  # the cold backend's own check says whether anything can run
    return make_backend(sandbox=sandbox, hidden=paths)


def backend_problem(sandbox: bool, hidden: tuple[str, ...] = ()) -> str | None:
    """None when notebooks can run here (cold or warm), else why not (shown to the instructor).
    Checked without starting a template: the workers start their own."""
    try:
        make_backend(sandbox=sandbox, prestart=False, hidden=[Path(h) for h in hidden]).check()
    except BackendUnavailable as err:
        return str(err)
    return None


def run_job(job: GradingJob) -> JobResult:
    """Execute one prepared notebook in a fresh kernel. Never raises."""
    start = time.perf_counter()
    worker = f"{socket.gethostname()}:{os.getpid()}"
    try:
        nb = nbformat.reads(job.notebook, as_version=4)
        execution = _backend(job.sandbox, job.hidden).run(nb, job.files, job.env(), job.limits)
        reason = _name_cell(execution.reason or "", nb, execution.failed_cell)
        return JobResult(job.student, job.assignment, job.notebook_id, job.resume_key,
                         json.dumps(execution.notebook), execution.outcome, reason,
                         execution.failed_cell, execution.cells, time.perf_counter() - start,
                         worker, execution.integrity)
    except Exception as err:  # the grader's own failure: never a grade
        detail = traceback.format_exception_only(type(err), err)[-1].strip()
        return JobResult(job.student, job.assignment, job.notebook_id, job.resume_key, None,
                         "failed", f"the grader could not run this notebook ({detail})", None,
                         (), time.perf_counter() - start, worker)


def _name_cell(reason: str, nb: nbformat.NotebookNode, cell: int | None) -> str:
    """"... in cell 6" -> "... in cell 6 (`import os`)": the learner finds the cell by its code."""
    where = f"in cell {cell}"
    if cell and reason.endswith(where):
        return reason[: -len(where)] + "in " + describe_cell(nb, cell - 1)
    return reason


def warm_worker() -> None:
    """Process-pool initializer: import the execution stack once per worker, not once per job.

    Ctrl-C is the parent's to handle (it cancels what is queued and keeps what is finished); the
    worker's pre-started runner is killed when the worker exits.
    """
    import atexit
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    atexit.register(close_backends)


def close_backends() -> None:
    with _backends_lock:
        backends = list(_backends.values())
        _backends.clear()
    for backend in backends:
        backend.close()
