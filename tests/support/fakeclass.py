"""A generated class: many learners' submissions of an assignment, right and wrong, some broken.

Used by the class-grading tests and `benchmarks/grade_class.py`, which need hundreds of realistic
submissions plus the kinds that break graders (no notebook of the right name, invalid JSON, a
kernel that exits, a deleted test cell). Answers come from the assignment itself, so the class
follows the assignment as it changes: each solution cell gets the reference solution from
``source/`` (markers removed), an entry of the proof bank (``tests/bank/<a>/<grade_id>/``:
correct ones in other styles and realistic wrong ones), or the untouched stub of ``release/``.
Submissions go into an `tests.support.course.Course` (a temp nbgrader course).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

import nbformat

from tests.support.course import Course, fill_in
from tests.support.paths import BANK

ASSIGNMENT = "ps1"
MARKERS = ("### BEGIN SOLUTION", "### END SOLUTION")
# Honest kinds: "reference" (every answer right), "blank" (nothing answered), "mixed" (each
# question right, a bank answer or blank, drawn per learner). Broken kinds are a reference
# answer, then broken.
BROKEN = ("missing", "invalid-json", "kernel-dies", "deleted-test")
MIX = ["mixed", "mixed", "reference", "mixed", "mixed", "reference", "mixed", "mixed", "blank",
       "mixed"]


@dataclass(frozen=True)
class Learner:
    student: str
    kind: str  # "reference", "blank", "mixed" or one of BROKEN

    def __repr__(self) -> str:
        return f"Learner({self.student!r}, {self.kind!r})"


def _meta(cell: nbformat.NotebookNode) -> dict[str, object]:
    return dict(cell.metadata.get("nbgrader", {}))


def reference(course: Course, assignment: str = ASSIGNMENT) -> dict[str, str]:
    """Solution grade_id -> the reference solution cell of the course's source, markers removed."""
    nb = nbformat.read(course.root / "source" / assignment / f"{assignment}.ipynb", as_version=4)
    return {str(_meta(c)["grade_id"]): "\n".join(
        line for line in c.source.splitlines() if line.strip() not in MARKERS)
        for c in nb.cells if c.cell_type == "code" and _meta(c).get("solution")}


def bank(assignment: str, grade_id: str) -> list[str]:
    """Answers of the proof bank for one question (empty if the bank has none)."""
    folder = BANK / assignment / grade_id
    return [p.read_text() for p in sorted(folder.glob("*.py"))] if folder.is_dir() else []


def graded_cells(course: Course, assignment: str = ASSIGNMENT) -> list[str]:
    """Graded test cells of the released notebook, in order."""
    nb = nbformat.read(course.release_notebook(assignment), as_version=4)
    return [str(_meta(c)["grade_id"]) for c in nb.cells if _meta(c).get("grade")
            and not _meta(c).get("solution")]


def answer(course: Course, learner: Learner,
           assignment: str = ASSIGNMENT) -> nbformat.NotebookNode:
    """The released notebook answered as `learner` would."""
    solutions = reference(course, assignment)
    release = course.release_notebook(assignment)
    if learner.kind == "blank":
        return nbformat.read(release, as_version=4)
    answers = dict(solutions)
    if learner.kind == "mixed":
        draw = random.Random(f"{assignment}/{learner.student}")
        answers = {}
        for grade_id, ref in solutions.items():
            roll = draw.random()
            options = bank(assignment, grade_id)
            if roll < 0.4 and options:
                answers[grade_id] = draw.choice(options)
            elif roll < 0.85:
                answers[grade_id] = ref
    nb = fill_in(release, answers)
    if learner.kind == "kernel-dies":
        first = next(i for i, c in enumerate(nb.cells) if _meta(c).get("solution"))
        nb.cells.insert(first + 1, nbformat.v4.new_code_cell("import os\nos._exit(1)"))
    if learner.kind == "deleted-test":
        doomed = graded_cells(course, assignment)[0]
        nb.cells = [c for c in nb.cells if _meta(c).get("grade_id") != doomed]
    return nb


def submit(course: Course, learners: list[Learner], assignment: str = ASSIGNMENT) -> None:
    """Write each learner's submission as `nbgrader collect` leaves it (with a timestamp)."""
    for learner in learners:
        name = f"{assignment} (1)" if learner.kind == "missing" else assignment
        path = course.submit(learner.student, assignment, answer(course, learner, assignment),
                             name=name)
        if learner.kind == "invalid-json":
            path.write_text(path.read_text()[:-200])  # cut off: the upload was interrupted
        (path.parent / "timestamp.txt").write_text("2026-11-20 12:00:00.000000 UTC")


def class_of(n: int, broken: bool = False) -> list[Learner]:
    """`n` learners with a realistic mix of answers (deterministic); `broken` puts the four
    kinds of submission that break graders first."""
    kinds = [MIX[i % len(MIX)] for i in range(n)]
    if broken:
        kinds[: len(BROKEN)] = BROKEN[:n]
    return [Learner(f"learner{i:04d}", kind) for i, kind in enumerate(kinds)]


def course_with_class(root: Path, n: int, assignment: str = ASSIGNMENT) -> Course:
    course = Course.create(root, [assignment])
    submit(course, class_of(n), assignment)
    return course
