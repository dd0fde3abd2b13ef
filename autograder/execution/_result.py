"""What a run of one notebook gives back: the executed notebook, each cell's verdict, the outcome.

A cell's verdict comes from the kernel's execute reply (``ok`` or ``error``) and from what the
runner saw happen to it (timed out, never run), never from what the cell's outputs look like:
outputs are the learner's to shape, the reply is the kernel's. The outcome says how the whole run
ended and whose doing that was: everything but ``failed`` is the learner's code's (it becomes a
grade with a reason), ``failed`` is the grading machinery's (it never becomes a grade).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import nbformat

__all__ = ["CellRun", "CellStatus", "Execution", "RunOutcome", "describe_cell"]

#: How a run ended. ``completed``: every code cell ran (cells may have raised: see their status).
#: ``timeout``, ``kernel-died``, ``memory``, ``output-limit``: the learner's code stopped it.
#: ``failed``: the grading machinery (runner, sandbox, kernel start) failed: not a grade.
RunOutcome = Literal["completed", "timeout", "kernel-died", "memory", "output-limit", "failed"]
#: ``ok``: the execute reply said ok; ``error``: it said error (or the cell was interrupted);
#: ``timeout``: stopped at the time limit; ``not-run``: never executed.
CellStatus = Literal["ok", "error", "timeout", "not-run"]
LEARNER_OUTCOMES: frozenset[str] = frozenset({"timeout", "kernel-died", "memory", "output-limit"})


@dataclass(frozen=True)
class CellRun:
    """One code cell's verdict: `index` counts from 0 over all cells, markdown included."""

    index: int
    status: CellStatus

    @property
    def passed(self) -> bool:
        return self.status == "ok"


@dataclass
class Execution:
    """The executed notebook and how the run ended.

    `reason` is a learner-facing sentence naming the cell ("ran past the time limit in cell 4");
    `failed_cell` is that cell's number, counted from 1 over all cells (markdown included), so
    ``notebook.cells[failed_cell - 1]``. `detail` is for the instructor (the kernel's stderr tail).
    """

    notebook: nbformat.NotebookNode
    outcome: RunOutcome
    reason: str | None = None
    failed_cell: int | None = None
    cells: tuple[CellRun, ...] = field(default_factory=tuple)
    detail: str | None = None
    seconds: float = 0.0
    #: The first tampering the guard saw ("`asyncio.sleep` was replaced (seen in cell 14)"):
    #: the tests from that cell on scored 0. None when nothing was seen.
    integrity: str | None = None
    #: CPU seconds of every process of the run (sandbox, runner, kernel), where it is measured
    #: (the sandbox's cgroup); None elsewhere.
    cpu_seconds: float | None = None

    @property
    def machinery_failed(self) -> bool:
        """The grading machinery, not the learner's code, ended this run: it is no grade."""
        return self.outcome == "failed"

    def status(self, index: int) -> CellStatus:
        """The verdict of cell `index` (0-based); a cell without one did not run."""
        return next((c.status for c in self.cells if c.index == index), "not-run")

    def __repr__(self) -> str:
        where = f", cell {self.failed_cell}" if self.failed_cell else ""
        return f"Execution({self.outcome!r}{where}, reason={self.reason!r}, {self.seconds:.1f} s)"


def describe_cell(nb: Mapping[str, Any], index: int | None) -> str:
    """'cell 4 (`import os`)': 1-based, with the cell's first line so a learner finds it."""
    cells = nb.get("cells", [])
    if index is None or not 0 <= index < len(cells):
        return "a cell"
    source = cells[index].get("source", "")
    if isinstance(source, list):
        source = "".join(source)
    first = next((ln.strip() for ln in source.splitlines() if ln.strip()), "")
    first = first if len(first) <= 40 else first[:37] + "..."
    return f"cell {index + 1}" + (f" (`{first}`)" if first else "")
