"""The canary: the assignment's reference solution and untouched student version, graded first.

Why. When the grading machinery is broken (Dask workers that cannot import the grader, a kernel
that cannot import the helper package, a sandbox that cannot start on a worker), every learner's
notebook fails the same way, and a run that takes those failures for grades gives the whole class
0. So before grading anyone, the command sends two notebooks through the very same path (the same
executor, backend and limits; on a Dask cluster once on every worker): the instructor's version
(reference solutions and hidden tests) must pass every graded cell, and the student version as
released (the stubs) must pass none. Otherwise the command stops before recording anything, with
the reason in one line.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Executor, Future
from pathlib import Path
from typing import Any

import nbformat

from autograder.execution import Limits, describe_cell
from autograder.grading.errors import GradingError
from autograder.grading.worker import GradingJob, JobResult, run_job

__all__ = ["CanaryFailed", "canary_jobs", "probe_imports", "run_canary"]

CANARY_TIMEOUT = 600.0  # seconds to wait for the canary's results, whatever the limits say


class CanaryFailed(GradingError):
    """The reference or the untouched student version did not grade as it must."""

    exit_code = 1


def canary_jobs(notebooks: Sequence[tuple[Path, Path]], limits: Limits, *, sandbox: bool,
                hidden: tuple[str, ...]) -> list[tuple[str, GradingJob]]:
    """("reference" | "untouched", job) for every notebook of the assignment, given as (source,
    release) paths: the instructor's notebook as it is, and the same with each solution cell
    replaced by the released stub (what an untouched submission becomes once nbgrader has
    restored its tests). Each job gets the assignment's other files, as a learner's does (not
    its notebooks: the instructor's versions hold the solutions)."""
    jobs = []
    for source, release in notebooks:
        reference = nbformat.read(source, as_version=4)
        released = {_grade_id(c): c.source for c in nbformat.read(release, as_version=4).cells
                    if _grade_id(c)}
        untouched = nbformat.from_dict(json.loads(nbformat.writes(reference)))
        for cell in untouched.cells:
            meta = cell.metadata.get("nbgrader", {})
            if meta.get("solution") and _grade_id(cell) in released:
                cell.source = released[_grade_id(cell)]
        files = {str(p.relative_to(source.parent)): p.read_bytes()
                 for p in sorted(source.parent.rglob("*")) if p.is_file() and p.suffix != ".ipynb"
                 and not p.is_symlink() and ".ipynb_checkpoints" not in p.parts}
        for kind, nb in (("reference", reference), ("untouched", untouched)):
            jobs.append((kind, GradingJob(f"canary-{kind}", source.parent.name, source.stem,
                                          nbformat.writes(nb), "", files, limits, sandbox,
                                          hidden)))
    return jobs


def probe_imports(client: Any, places: list[str]) -> None:
    """Ask each Dask worker to import the grader, with a function it surely has (`exec`).

    A worker that cannot import the grader cannot even read a grading job: the unpickling fails
    in the worker's connection to the scheduler, the worker shuts down, and a job sent to it waits
    for ever. This probe fails in the worker's own code instead and comes back as an error."""
    answers = client.run(exec, "import autograder.grading.worker", {}, workers=places,
                         on_error="return")
    for place, answer in sorted(answers.items()):
        if isinstance(answer, BaseException):
            raise CanaryFailed(f"the grading workers (first: {place}) cannot import the grader "
                               f"({type(answer).__name__}: {answer}): install the course in the "
                               "workers' virtualenv (see the README, On a cluster)")


def run_canary(jobs: list[tuple[str, GradingJob]], submit: Callable[..., Future[JobResult]],
               places: Iterable[str | None]) -> int:
    """Run the canary jobs at each place (a Dask worker's address, or None: wherever the executor
    puts them); raise `CanaryFailed` with the first reason found. Returns how many places."""
    futures: list[tuple[str, str | None, Future[JobResult]]] = []
    count = 0
    for place in places:
        count += 1
        for kind, job in jobs:
            futures.append((kind, place, submit(job, place)))
    for kind, place, future in futures:
        where = f" on the worker {place}" if place else ""
        try:
            result = future.result(timeout=CANARY_TIMEOUT)
        except ImportError as err:
            raise CanaryFailed(f"the grading workers{where} cannot import the grader ({err}): "
                               "install the course in the workers' virtualenv (see the README, "
                               "On a cluster)") from err
        except Exception as err:
            raise CanaryFailed(f"the grading machinery failed{where} before grading anyone "
                               f"({type(err).__name__}: {err})") from err
        problem = _judge(f"{kind} {result.notebook_id}.ipynb", result)
        if problem:
            raise CanaryFailed(f"{problem}{where}; nothing was graded or recorded (fix it, or "
                               "pass --no-canary if you know why)")
    return count


def _judge(what: str, result: JobResult) -> str | None:
    """Why `result` is not what the canary `what` ("reference ps1.ipynb") must give, or None."""
    kind, name = what.split(" ", 1)
    if result.outcome != "completed" or result.notebook is None:
        return (f"the assignment's {kind} version ({name}) could not be run through the grader: "
                f"{result.reason or result.outcome}")
    nb = nbformat.reads(result.notebook, as_version=4)
    statuses = {c.index: c.status for c in result.cells}
    graded = [i for i, c in enumerate(nb.cells) if _is_graded(c)]
    if kind == "reference":
        for index, cell in enumerate(nb.cells):
            locked = cell.metadata.get("nbgrader", {}).get("locked") or index in graded
            if cell.cell_type == "code" and locked and statuses.get(index) != "ok":
                return (f"the reference solution does not pass here: "
                        f"{describe_cell(nb, index)} of {name} {_error(cell)}")
        if result.integrity:
            return f"the grader's guard objects to the reference solution: {result.integrity}"
        return None
    passed = [i for i in graded if statuses.get(i) == "ok"]
    if passed:
        return (f"the untouched student version earns points here: "
                f"{describe_cell(nb, passed[0])} of {name} passes with the stubs")
    return None


def _error(cell: Any) -> str:
    for out in cell.get("outputs", []):
        if out.get("output_type") == "error":
            return f"failed with {out.get('ename')}: {str(out.get('evalue', ''))[:200]}"
    return "did not pass"


def _grade_id(cell: Any) -> str:
    return str(cell.metadata.get("nbgrader", {}).get("grade_id", ""))


def _is_graded(cell: Any) -> bool:
    meta = cell.metadata.get("nbgrader", {})
    return cell.cell_type == "code" and bool(meta.get("grade")) and not meta.get("solution")


def local_submit(executor: Executor) -> Callable[[GradingJob, str | None], Future[JobResult]]:
    def submit(job: GradingJob, place: str | None) -> Future[JobResult]:
        return executor.submit(run_job, job)
    return submit


def dask_submit(client: Any) -> Callable[[GradingJob, str | None], Future[JobResult]]:
    def submit(job: GradingJob, place: str | None) -> Future[JobResult]:
        workers = [place] if place else None
        return client.submit(run_job, dataclasses.replace(job), workers=workers,  # type: ignore[no-any-return]
                             allow_other_workers=False, pure=False)
    return submit
