"""Run: one job per submission, plain data in and out, on any `concurrent.futures.Executor`.

A job never touches the gradebook or the course folder: it gets the notebook already prepared by
the parent (tests restored from the gradebook) and the files the notebook may read, runs it in a
fresh kernel, and returns the executed notebook as JSON with an outcome and a reason. That keeps
the gradebook single-writer, and lets the same job run in a local process pool or on Dask workers
on other machines.
"""

from __future__ import annotations

import json
import os
import socket
import time
import traceback
from dataclasses import dataclass, field
from typing import Any

import nbformat

PYTHONHASHSEED = "0"


@dataclass(frozen=True)
class Job:
    """Everything a worker needs to run one submission (picklable)."""

    student: str
    assignment: str
    notebook_id: str
    notebook: str  # the prepared notebook, JSON
    digest: str  # identifies submission + assignment version (resume key)
    extra_files: dict[str, bytes] = field(default_factory=dict)
    execute_config: dict[str, Any] = field(default_factory=dict)
    sandbox: bool = True

    def env(self) -> dict[str, str]:
        """Fixed hash seed (set/dict order) for every run; `random` is seeded at kernel start."""
        return {"PYTHONHASHSEED": PYTHONHASHSEED, "NBGRADER_EXECUTION": "autograde"}

    def __repr__(self) -> str:
        return f"Job({self.student}/{self.assignment}, {len(self.notebook)} bytes)"


@dataclass(frozen=True)
class JobResult:
    """What came back: the executed notebook (JSON, None if nothing ran) and how it ended."""

    student: str
    assignment: str
    notebook_id: str
    digest: str
    notebook: str | None
    outcome: str  # "ok" | "timeout" | "kernel-died" | "memory" | "error"
    reason: str
    failed_cell: int | None = None
    seconds: float = 0.0
    worker: str = ""

    def __repr__(self) -> str:
        return (f"JobResult({self.student}/{self.assignment}, {self.outcome}, "
                f"{self.seconds:.2f}s on {self.worker})")


def sandbox_available() -> str | None:
    """None when the bubblewrap sandbox can run here, else why not (shown to the instructor)."""
    try:
        from autograder import sandbox
    except ImportError as err:
        return f"autograder.sandbox cannot be imported ({err})"
    try:
        sandbox._check_available()  # bwrap, root, prlimit, a probe sandbox (cached per process)
    except sandbox.SandboxUnavailable as err:
        return str(err)
    return None


def run_job(job: Job) -> JobResult:
    """Execute one prepared submission in a fresh kernel. Never raises."""
    start = time.perf_counter()
    worker = f"{socket.gethostname()}:{os.getpid()}"
    try:
        nb = nbformat.reads(job.notebook, as_version=4)
        if job.sandbox:
            execution = _run_sandboxed(job, nb)
        else:
            from autograder.grading.localexec import execute_local

            execution = execute_local(nb, extra_files=job.extra_files, env=job.env(),
                                      execute_config=job.execute_config)
        notebook = json.dumps(execution.notebook)
        reason = _name_cell(execution.reason or "", nb, execution.failed_cell)
        return JobResult(job.student, job.assignment, job.notebook_id, job.digest, notebook,
                         execution.outcome, reason, execution.failed_cell,
                         time.perf_counter() - start, worker)
    except Exception as err:  # the grader's own failure: report it as this learner's reason
        detail = traceback.format_exception_only(type(err), err)[-1].strip()
        return JobResult(job.student, job.assignment, job.notebook_id, job.digest, None,
                         "error", f"the grader could not run this notebook ({detail})", None,
                         time.perf_counter() - start, worker)


def _name_cell(reason: str, nb: nbformat.NotebookNode, cell: int | None) -> str:
    """"... in cell 6" -> "... in cell 6 (`import os`)": the learner finds the cell by its code."""
    from autograder.grading.localexec import describe_cell

    where = f"in cell {cell}"
    if cell and reason.endswith(where):
        return reason[: -len(where)] + "in " + describe_cell(nb, cell - 1)
    return reason


def _run_sandboxed(job: Job, nb: nbformat.NotebookNode) -> Any:
    from autograder import sandbox

    timeout = job.execute_config.get("Execute", {}).get("timeout")
    limits = sandbox.Limits()
    if timeout and hasattr(limits, "cell_timeout"):
        import dataclasses

        limits = dataclasses.replace(limits, cell_timeout=timeout)
    # prestart: the next learner's sandbox boots while this worker hands back the result
    return sandbox.execute_sandboxed(nb, limits=limits, extra_files=job.extra_files,
                                     env=job.env(), prestart=True)


def warm_worker(sandbox: bool = True) -> None:
    """Process-pool initializer: import the execution stack once per worker, not once per job.

    Ctrl-C is the parent's to handle (it cancels what is queued and keeps what is finished); the
    worker's pre-started kernel or sandbox is killed when the worker exits.
    """
    import atexit
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if sandbox:
        from autograder import sandbox as sandbox_module

        atexit.register(sandbox_module.discard_spare)
        return
    import nbclient  # noqa: F401
    import nbgrader.preprocessors  # noqa: F401

    from autograder.grading import localexec

    atexit.register(localexec.discard_spare)
