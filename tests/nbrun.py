"""Execute a notebook in a fresh kernel and report its cell errors, for the notebook tests.

nbclient does the executing; this adds what the tests need on top: the kernel runs in the
notebook's folder with ``MPLBACKEND=Agg``, errors are collected per cell instead of stopping at the
first one, writing to stderr counts as an error (nbgrader fails a cell for it, and IPython reports
an uncaught ``ExceptionGroup`` only there), a cell tagged ``raises-exception`` must raise (the tag
documents that it does), and the
executed notebook is kept so lecture tests can check outputs (see the ``run_notebook`` fixture in
``conftest.py``, which executes each notebook once per test session).

Lecture tests that check outputs of one notebook should carry ``notebook_group(path)`` (an
``xdist_group`` mark) so they run on the same xdist worker as ``test_notebooks.py``'s run of it
and share the cached execution instead of starting a second kernel.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbformat import NotebookNode

from tests.support.paths import REPO, kernel_env

CELL_TIMEOUT = 60  # seconds of wall time per cell
RAISES_TAG = "raises-exception"
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def relative(path: Path) -> str:
    """``path`` relative to the repository root, with forward slashes (test ids, messages)."""
    try:
        return path.resolve().relative_to(REPO).as_posix()
    except ValueError:
        return str(path)


def notebook_group(path: str | Path) -> pytest.MarkDecorator:
    """The ``xdist_group`` mark shared by every test of the notebook at ``path``."""
    return pytest.mark.xdist_group(f"notebook:{relative(REPO / path)}")


@dataclass(frozen=True)
class CellProblem:
    """A cell that raised without the ``raises-exception`` tag, or carries the tag and did not."""

    index: int
    message: str

    def __str__(self) -> str:
        return f"cell {self.index}: {self.message}"


@dataclass
class ExecutedNotebook:
    """A notebook after execution: ``nb`` holds the outputs, ``problems`` what went wrong."""

    path: Path
    nb: NotebookNode
    seconds: float
    problems: list[CellProblem] = field(default_factory=list)

    def __repr__(self) -> str:
        return (
            f"ExecutedNotebook({relative(self.path)!r}, {len(self.nb.cells)} cells, "
            f"{self.seconds:.1f} s, {len(self.problems)} problems)"
        )

    @property
    def ok(self) -> bool:
        return not self.problems

    def report(self) -> str:
        """One line per problem, naming the notebook and the cell."""
        return "\n".join(f"{relative(self.path)}: {p}" for p in self.problems)

    def text(self, index: int) -> str:
        """Everything cell ``index`` printed or displayed as text (streams, text/plain, errors)."""
        parts: list[str] = []
        for out in self.nb.cells[index].get("outputs", []):
            if out.output_type == "stream":
                parts.append(out.text)
            elif out.output_type in ("execute_result", "display_data"):
                parts.append(out.get("data", {}).get("text/plain", ""))
            elif out.output_type == "error":
                parts.append(f"{out.ename}: {out.evalue}")
        return "".join(parts)

    def find_cell(self, needle: str) -> int:
        """Index of the first cell whose source contains ``needle`` (KeyError if none)."""
        for index, cell in enumerate(self.nb.cells):
            if needle in cell.source:
                return index
        raise KeyError(f"no cell of {relative(self.path)} contains {needle!r}")


def _error_message(output: NotebookNode) -> str:
    tail = [_ANSI.sub("", line) for line in output.get("traceback", [])[-3:]]
    return f"raised {output.ename}: {output.evalue}\n" + "\n".join(tail)


def check_cells(nb: NotebookNode, upto: int | None = None) -> list[CellProblem]:
    """Problems of an executed notebook, looking at cells ``0 .. upto-1`` (default: all)."""
    problems = []
    for index, cell in enumerate(nb.cells[:upto]):
        if cell.cell_type != "code":
            continue
        errors = [o for o in cell.get("outputs", []) if o.output_type == "error"]
        stderr = [o for o in cell.get("outputs", []) if o.get("name") == "stderr"]
        tagged = RAISES_TAG in cell.metadata.get("tags", [])
        if errors and not tagged:
            problems.append(CellProblem(index, _error_message(errors[0])))
        elif stderr and not tagged:  # e.g. IPython prints an uncaught ExceptionGroup there
            first = _ANSI.sub("", stderr[0].text).strip().splitlines()[:3]
            problems.append(CellProblem(index, "wrote to stderr: " + " | ".join(first)))
        elif tagged and not errors and not stderr:
            problems.append(CellProblem(index, f"is tagged {RAISES_TAG} but raised nothing"))
    return problems


def execute_notebook(path: str | Path, *, timeout: int = CELL_TIMEOUT) -> ExecutedNotebook:
    """Execute the notebook at ``path`` in a fresh python3 kernel, its folder as working dir.

    Never raises for the notebook's own errors: they are in ``ExecutedNotebook.problems``.
    A cell that runs longer than ``timeout`` seconds or kills the kernel ends the run there.
    """
    path = Path(path).resolve()
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name="python3",
        allow_errors=True,
        resources={"metadata": {"path": str(path.parent)}},
    )
    current = [0]

    def started(cell: NotebookNode, cell_index: int) -> None:
        current[0] = cell_index

    client.on_cell_start = started
    start = time.monotonic()
    fatal: CellProblem | None = None
    try:
        client.execute(env=kernel_env())
    except CellTimeoutError:
        fatal = CellProblem(current[0], f"ran longer than the {timeout} s limit per cell")
    except DeadKernelError as exc:
        fatal = CellProblem(current[0], f"killed the kernel ({exc})")
    seconds = time.monotonic() - start
    problems = check_cells(nb, upto=current[0] if fatal else None)
    if fatal:
        problems.append(fatal)
    return ExecutedNotebook(path, nb, seconds, problems)
