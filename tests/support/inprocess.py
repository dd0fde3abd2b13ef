"""Grade one question of a problem set in a plain Python process, without a kernel or nbgrader.

nbgrader's grade is what counts (``tests/test_bank.py``), but it costs a kernel per notebook.
Some checks only need to know which test cells of one question an answer passes: whether a wrong
bank entry passes every *visible* check (it must fail only hidden ones), whether an answer's
schedule differs from the reference's, whether a grade depends on the process it runs in
(``tests/test_grade_stability.py``). This module runs, in one fresh namespace, the provided cells
of the instructor notebook (``grade_id`` starting with ``provided``), the answer, and the
question's graded test cells (their visible part only, or all of them), and says for each test
cell whether it passed, with which message, and the schedule of every run it graded. As in a
kernel, the cells run from inside a running event loop.

``graded_elsewhere`` runs that in a fresh Python process (so a ``nest_asyncio`` patch or a leaked
task cannot reach another answer, and objects land at other addresses): the parent reads the
notebook and sends the sources as JSON on stdin, the child (``python -m tests.support.inprocess``)
imports only asyncourse, optionally first allocates ``allocate`` objects of varying sizes that
stay alive (a kernel with another history), runs the cells and prints the outcomes as JSON.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import os
import random
import subprocess
import sys
from dataclasses import asdict, dataclass
from typing import Any

from tests.support.paths import REPO, SOURCE

HIDDEN = "### BEGIN HIDDEN TESTS"
MARKERS = ("### BEGIN SOLUTION", "### END SOLUTION", "### BEGIN HIDDEN TESTS",
           "### END HIDDEN TESTS")

Schedule = tuple[float, tuple[tuple[float, float, str, str], ...]]


@dataclass(frozen=True)
class Outcome:
    """What one graded test cell did with an answer, and the schedule of each run it graded.

    A schedule is the elapsed time and every wait on a timer or a thread, and every blocked
    stretch, as ``(start, end, kind, what)`` (``what`` without the task's own function name, so
    that two answers naming their helpers differently still have the same schedule).
    """

    cell: str
    passed: bool
    message: str = ""
    schedules: tuple[Any, ...] = ()


@dataclass
class Question:
    provided: list[str]  # source of every provided cell, in notebook order
    reference: str  # the question's reference solution, markers removed
    tests: list[tuple[str, str]]  # (grade_id, source) of its graded test cells


def _unmarked(source: str) -> str:
    return "\n".join(line for line in source.splitlines() if line.strip() not in MARKERS)


def question(assignment: str, grade_id: str) -> Question:
    """The provided cells, the reference and the test cells of one solution cell."""
    nb = json.loads((SOURCE / assignment / f"{assignment}.ipynb").read_text(encoding="utf-8"))
    provided: list[str] = []
    reference: str | None = None
    tests: list[tuple[str, str]] = []
    current: str | None = None
    for cell in nb["cells"]:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        gid = str(meta.get("grade_id", ""))
        source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        if cell["cell_type"] != "code":
            continue
        if meta.get("solution"):
            current = gid
            if gid == grade_id:
                reference = _unmarked(source)
        elif meta.get("grade") and current == grade_id:
            tests.append((gid, source))
        elif gid.startswith("provided"):
            provided.append(source)
    if reference is None:
        raise LookupError(f"{assignment} has no solution cell {grade_id!r}")
    return Question(provided, reference, tests)


def schedule(run: Any) -> Schedule:
    """What ran when in one ``Run`` (see ``Outcome``)."""
    spans = sorted((round(i.start, 9), round(i.end, 9), i.kind, i.detail.split(": ", 1)[-1])
                   for task in run.recording.tasks for i in task.intervals
                   if i.kind in ("timer", "thread", "blocked"))
    return round(run.elapsed, 9), tuple(spans)


def run_cells(provided: list[str], answer: str, tests: list[tuple[str, str]]) -> list[Outcome]:
    """Provided cells, the answer, then each test cell, in one namespace of this process."""
    import asyncourse

    namespace: dict[str, Any] = {"__name__": "__main__", "display": lambda *a, **k: None}
    runs: list[Schedule] = []
    real_grade = asyncourse.grade

    def grade(*args: Any, **kwargs: Any) -> Any:  # the test cells' grade, noting each run
        run = real_grade(*args, **kwargs)
        runs.append(schedule(run))
        return run

    outcomes = []

    async def as_in_a_kernel() -> None:
        """A kernel runs each cell from inside its running event loop: so do we."""
        for index, source in enumerate(provided):
            exec(compile(source, f"<provided {index}>", "exec"), namespace)
        exec(compile(answer, "<answer>", "exec"), namespace)
        for cell, code in tests:
            del runs[:]
            try:
                exec(compile(code, f"<{cell}>", "exec"), namespace)
            except BaseException as exc:  # a failed test cell, whatever it raised
                outcomes.append(Outcome(cell, False, f"{type(exc).__name__}: {exc}",
                                        tuple(runs)))
            else:
                outcomes.append(Outcome(cell, True, "", tuple(runs)))

    asyncourse.grade = grade  # type: ignore[assignment]  # test cells import it from here
    try:
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            asyncio.run(as_in_a_kernel())
    finally:
        asyncourse.grade = real_grade  # type: ignore[assignment]
    return outcomes


def payload(assignment: str, grade_id: str, answer: str | None = None, *,
            hidden: bool = True) -> dict[str, Any]:
    """What a child process needs to grade ``answer`` (default: the reference)."""
    q = question(assignment, grade_id)
    return {"provided": q.provided, "answer": q.reference if answer is None else answer,
            "tests": [(cell, _unmarked(src) if hidden else src.split(HIDDEN, 1)[0])
                      for cell, src in q.tests]}


def graded_elsewhere(assignment: str, grade_id: str, answer: str | None = None, *,
                     hidden: bool = True, allocate: int = 0,
                     python: str = sys.executable) -> list[Outcome]:
    """``run_cells`` in a fresh process (see the module docstring)."""
    job = {**payload(assignment, grade_id, answer, hidden=hidden), "allocate": allocate}
    # the helper package from this checkout, whether or not `python` has it installed
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(REPO / "src"), str(REPO), *filter(None, [os.environ.get("PYTHONPATH")])])}
    done = subprocess.run([python, "-m", "tests.support.inprocess"], input=json.dumps(job),
                          capture_output=True, text=True, cwd=REPO, timeout=300, check=False,
                          env=env)
    if done.returncode != 0:
        raise RuntimeError(f"grading {assignment}/{grade_id} in a child failed:\n{done.stderr}")
    return [Outcome(o["cell"], o["passed"], o["message"], tuple(o["schedules"]))
            for o in json.loads(done.stdout)]


def allocate(count: int) -> list[object]:
    """Objects of many sizes (and closed coroutines) that shift where later objects land."""
    async def nothing() -> None:
        return None

    draw = random.Random(count)
    kept: list[object] = []
    for _ in range(count):
        coro = nothing()
        coro.close()
        kept += [coro, bytearray(draw.randrange(1, 512)), [None] * draw.randrange(0, 40)]
    return kept


def main() -> int:
    job = json.load(sys.stdin)
    kept = allocate(int(job.get("allocate", 0)))
    outcomes = run_cells(job["provided"], job["answer"], [tuple(t) for t in job["tests"]])
    print(json.dumps([asdict(o) for o in outcomes]))
    del kept
    return 0


if __name__ == "__main__":
    sys.exit(main())
