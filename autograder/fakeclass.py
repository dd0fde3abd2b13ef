"""A generated class for ps1: many learners' submissions, right and wrong, some broken.

Used by the class-grading tests and `benchmarks/grade_class.py`, which need hundreds of realistic
submissions of the real slice assignment (answers written the ways learners write them) plus the
kinds that break graders: no notebook of the right name, invalid JSON, a kernel that exits, a
deleted test cell. Submissions go into an `autograder.course.Course` (a temp nbgrader course).
"""

from __future__ import annotations

from dataclasses import dataclass

import nbformat

from autograder.course import Course, fill_in

ASSIGNMENT = "ps1"
SOLUTION_CELL = "fetch_all"
_HEAD = ("async def fetch_all(delays: list[float]) -> list[float]:\n"
         '    """Fetch every delay in `delays` at the same time; return the results in input '
         'order."""\n')

# fetch_all bodies as learners write them.
ANSWERS: dict[str, str] = {
    "gather": "    return list(await asyncio.gather(*(fetch(d) for d in delays)))\n",
    "taskgroup": ("    async with asyncio.TaskGroup() as tg:\n"
                  "        tasks = [tg.create_task(fetch(d)) for d in delays]\n"
                  "    return [t.result() for t in tasks]\n"),
    "create-task": ("    tasks = [asyncio.create_task(fetch(d)) for d in delays]\n"
                    "    return [await t for t in tasks]\n"),
    "sequential": "    return [await fetch(d) for d in delays]\n",
    "completion-order": ("    results = []\n"
                         "    for next_done in asyncio.as_completed([fetch(d) for d in delays]):\n"
                         "        results.append(await next_done)\n"
                         "    return results\n"),
    "not-awaited": "    return [fetch(d) for d in delays]\n",
    "blank": "    # YOUR CODE HERE\n    raise NotImplementedError()\n",
}
# A class: mostly right, the classic mistakes, a few blank.
MIX = ["gather", "gather", "taskgroup", "sequential", "create-task", "completion-order",
       "gather", "not-awaited", "sequential", "blank"]
BROKEN = ("missing", "invalid-json", "kernel-dies", "deleted-test")


@dataclass(frozen=True)
class Learner:
    student: str
    kind: str  # a key of ANSWERS, or one of BROKEN

    def __repr__(self) -> str:
        return f"Learner({self.student!r}, {self.kind!r})"


def answer(course: Course, kind: str) -> nbformat.NotebookNode:
    """The released ps1 answered as `kind` (broken kinds: a correct answer, then broken)."""
    body = ANSWERS.get(kind, ANSWERS["gather"])
    nb = fill_in(course.release_notebook(ASSIGNMENT), {SOLUTION_CELL: _HEAD + body})
    if kind == "kernel-dies":
        at = 1 + next(i for i, c in enumerate(nb.cells)
                      if c.metadata.get("nbgrader", {}).get("grade_id") == SOLUTION_CELL)
        nb.cells.insert(at, nbformat.v4.new_code_cell("import os\nos._exit(1)"))
    if kind == "deleted-test":
        nb.cells = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id")
                    != "test_fetch_all_results"]
    return nb


def submit(course: Course, learners: list[Learner]) -> None:
    """Write each learner's submission as `nbgrader collect` leaves it."""
    cache: dict[str, str] = {}
    for learner in learners:
        if learner.kind == "invalid-json":
            path = course.submit(learner.student, ASSIGNMENT, answer(course, "gather"))
            path.write_text(path.read_text()[:-200])  # cut off: the upload was interrupted
            continue
        if learner.kind not in cache:
            cache[learner.kind] = nbformat.writes(answer(course, learner.kind))
        name = f"{ASSIGNMENT} (1)" if learner.kind == "missing" else None
        path = course.root / "submitted" / learner.student / ASSIGNMENT / \
            f"{name or ASSIGNMENT}.ipynb"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(cache[learner.kind])
        (path.parent / "timestamp.txt").write_text("2026-11-20 12:00:00.000000 UTC")


def class_of(n: int, broken: bool = False) -> list[Learner]:
    """`n` learners with a realistic mix of answers (deterministic); `broken` adds the 4 kinds
    of submissions that break graders in place of the first ones."""
    kinds = [MIX[i % len(MIX)] for i in range(n)]
    if broken:
        kinds[: len(BROKEN)] = BROKEN[:n]
    return [Learner(f"learner{i:04d}", kind) for i, kind in enumerate(kinds)]

