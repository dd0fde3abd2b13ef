"""A throwaway nbgrader course for tests: submit notebooks, autograde them, read scores.

The grading itself is nbgrader's (``nbgrader generate_assignment`` / ``autograde`` /
``generate_feedback`` in a subprocess, scores from ``nbgrader.api.Gradebook``); this only sets up
the folder layout nbgrader expects and reads back what it wrote, so the slice test, the proof bank
and the hostile-submission tests grade exactly as an instructor would, without touching the
repository's ``gradebook.db`` or ``submitted/``.

Typical use (the slice test and the proof bank)::

    course = Course.create(tmp_path / "course", ["ps1"])
    answer = fill_in(course.release_notebook("ps1"), {"fetch_all": "async def fetch_all..."})
    course.submit("alice", "ps1", answer)              # a path or an nbformat NotebookNode
    course.submit("bob", "ps1", course.release_notebook("ps1"))
    course.autograde("ps1")                            # every submitted student at once
    results = course.results("ps1")                    # {"alice": Result, "bob": Result}
    results["alice"].score, results["alice"].grades["test_fetch_all_concurrent"]
    course.cell_text("alice", "ps1", "test_fetch_all_concurrent")  # what the learner sees
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from nbformat import NotebookNode

from autograder.release import run_nbgrader
from tests.support.paths import REPO

COURSE_ID = "async-python"  # as in nbgrader_config.py
_IGNORE = shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__", "*.pyc")


@dataclass(frozen=True)
class Grade:
    """The score of one graded cell (nbgrader's grade_id) of one submission."""

    score: float
    max_score: float

    def __repr__(self) -> str:
        return f"Grade({self.score:g}/{self.max_score:g})"


@dataclass(frozen=True)
class Result:
    """A student's autograded submission of one assignment: totals and per graded cell."""

    student: str
    score: float
    max_score: float
    grades: dict[str, Grade] = field(default_factory=dict)

    def __repr__(self) -> str:
        cells = ", ".join(f"{k}={v.score:g}/{v.max_score:g}" for k, v in self.grades.items())
        return f"Result({self.student!r}, {self.score:g}/{self.max_score:g}: {cells})"

    @property
    def full_marks(self) -> bool:
        return self.max_score > 0 and self.score == self.max_score


@dataclass
class Course:
    """An nbgrader course folder (``root``) whose config, source and release are the repo's."""

    root: Path

    @classmethod
    def create(cls, root: Path, assignments: Iterable[str]) -> Course:
        """Copy ``nbgrader_config.py``, ``source/<a>`` and ``release/<a>`` into ``root``.

        The copied config locates the course (and its gradebook) next to itself, so every
        nbgrader command run here stays here. Each assignment is registered in the gradebook with
        ``nbgrader generate_assignment``, whose output goes to ``root/.generated`` so the copied
        ``release/`` stays the committed student version. ``root`` must not exist yet or be empty.
        """
        root = Path(root)
        root.mkdir(parents=True, exist_ok=True)
        if any(root.iterdir()):
            raise ValueError(f"{root} is not empty: a course needs a fresh folder")
        shutil.copy2(REPO / "nbgrader_config.py", root / "nbgrader_config.py")
        course = cls(root)
        for assignment in assignments:
            for kind in ("source", "release"):
                src = REPO / kind / assignment
                if not src.is_dir():
                    raise ValueError(f"no {kind}/{assignment} in the repository")
                shutil.copytree(src, root / kind / assignment, ignore=_IGNORE)
            course.nbgrader(
                "generate_assignment",
                assignment,
                "--force",
                "--CourseDirectory.release_directory=.generated",
            )
        return course

    @classmethod
    def from_source(cls, root: Path, folder: Path, config: str = "") -> Course:
        """A course of one assignment of any nbgrader course: ``folder`` (its name is the
        assignment's) is copied to ``source/``, the repository's ``nbgrader_config.py`` with
        `config` appended, and ``nbgrader generate_assignment`` writes ``release/``."""
        root = Path(root)
        root.mkdir(parents=True, exist_ok=True)
        if any(root.iterdir()):
            raise ValueError(f"{root} is not empty: a course needs a fresh folder")
        shutil.copy2(REPO / "nbgrader_config.py", root / "nbgrader_config.py")
        if config:
            with open(root / "nbgrader_config.py", "a") as fh:
                fh.write("\n" + config + "\n")
        shutil.copytree(folder, root / "source" / folder.name, ignore=_IGNORE)
        course = cls(root)
        course.nbgrader("generate_assignment", folder.name, "--force")
        return course

    @property
    def db_url(self) -> str:
        return f"sqlite:///{self.root / 'gradebook.db'}"

    def nbgrader(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        """Run ``nbgrader ARGS`` in the course folder; see ``autograder.release.run_nbgrader``."""
        return run_nbgrader(*args, cwd=self.root, check=check)

    def release_notebook(self, assignment: str, name: str | None = None) -> Path:
        """The copied student version ``release/<assignment>/<name or assignment>.ipynb``."""
        return self.root / "release" / assignment / f"{name or assignment}.ipynb"

    def submit(
        self,
        student: str,
        assignment: str,
        notebook: Path | NotebookNode,
        name: str | None = None,
    ) -> Path:
        """Place ``notebook`` as ``submitted/<student>/<assignment>/<name or assignment>.ipynb``.

        ``notebook`` is a file (copied byte for byte, so broken files can be submitted too) or a
        NotebookNode (written with nbformat). Returns the submitted file.
        """
        dest = self.root / "submitted" / student / assignment / f"{name or assignment}.ipynb"
        dest.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(notebook, Path):
            shutil.copyfile(notebook, dest)
        else:
            nbformat.write(notebook, dest)
        return dest

    def autograde(
        self, assignment: str, students: Iterable[str] = (), *, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        """``nbgrader autograde <assignment>`` for ``students`` (default: every submission).

        With ``check=False`` a failing nbgrader run is returned instead of raising (for
        submissions meant to break the grader: the test then inspects ``stdout``/``stderr``).
        """
        args = ["autograde", assignment, "--force"]
        args += [f"--student={s}" for s in students]
        return self.nbgrader(*args, check=check)

    def results(self, assignment: str) -> dict[str, Result]:
        """Scores of every autograded submission of ``assignment``, by student id."""
        from nbgrader.api import Gradebook  # slow import, needed only here

        if not (self.root / "gradebook.db").exists():
            raise RuntimeError(f"no gradebook in {self.root}: create the course with Course.create")
        found: dict[str, Result] = {}
        with Gradebook(self.db_url, COURSE_ID) as gb:
            for submission in gb.assignment_submissions(assignment):
                grades = {
                    grade.name: Grade(float(grade.score), float(grade.max_score))
                    for notebook in submission.notebooks
                    for grade in notebook.grades
                }
                student = submission.student.id
                found[student] = Result(
                    student, float(submission.score), float(submission.max_score), grades
                )
        return found

    def autograded_notebook(
        self, student: str, assignment: str, name: str | None = None
    ) -> NotebookNode:
        """The notebook nbgrader executed for ``student``, with its outputs."""
        path = self.root / "autograded" / student / assignment / f"{name or assignment}.ipynb"
        return nbformat.read(path, as_version=4)

    def cell_text(
        self, student: str, assignment: str, grade_id: str, name: str | None = None
    ) -> str:
        """What the graded cell ``grade_id`` showed the learner: printed text and the error line.

        Tracebacks are reduced to their last line (``ename: evalue``), the part feedback shows.
        """
        nb = self.autograded_notebook(student, assignment, name)
        for cell in nb.cells:
            if cell.metadata.get("nbgrader", {}).get("grade_id") == grade_id:
                return _outputs_text(cell)
        raise KeyError(f"no cell {grade_id!r} in the autograded {assignment} of {student}")

    def feedback(self, student: str, assignment: str, name: str | None = None) -> str:
        """``nbgrader generate_feedback`` for one student; returns the feedback HTML."""
        self.nbgrader("generate_feedback", assignment, f"--student={student}", "--force")
        path = self.root / "feedback" / student / assignment / f"{name or assignment}.html"
        return path.read_text(encoding="utf-8")


def fill_in(notebook: Path | NotebookNode, answers: Mapping[str, str]) -> NotebookNode:
    """A copy of ``notebook`` with the source of each solution cell ``grade_id`` replaced.

    ``answers`` maps grade_id (the cell's ``nbgrader.grade_id``) to the learner's code; a grade_id
    the notebook lacks raises KeyError, so a renamed cell cannot silently leave a stub in place.
    """
    nb = nbformat.read(notebook, as_version=4) if isinstance(notebook, Path) else notebook
    nb = nbformat.from_dict(nb)  # a deep copy: the caller's notebook stays as it was
    missing = dict(answers)
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id in missing:
            cell.source = missing.pop(grade_id)
    if missing:
        raise KeyError(f"no cell with grade_id {sorted(missing)} in the notebook")
    return nb


def _outputs_text(cell: NotebookNode) -> str:
    parts: list[str] = []
    for out in cell.get("outputs", []):
        if out.output_type == "stream":
            parts.append(out.text)
        elif out.output_type in ("execute_result", "display_data"):
            parts.append(out.get("data", {}).get("text/plain", ""))
        elif out.output_type == "error":
            parts.append(f"{out.ename}: {out.evalue}\n")
    return "".join(parts)

