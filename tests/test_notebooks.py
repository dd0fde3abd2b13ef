"""Every lecture notebook runs top to bottom in a fresh kernel.

The instructor versions of the problem sets are not run here: the proof bank
(`tests/test_bank.py`) grades their reference solutions with `nbgrader autograde`, which also
fails a test cell that writes to stderr.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.nbrun import REPO, ExecutedNotebook, notebook_group, relative


def _notebooks() -> list[Path]:
    lectures = sorted((REPO / "notebooks").rglob("*.ipynb"))
    return [p for p in lectures if ".ipynb_checkpoints" not in p.parts]


NOTEBOOKS = _notebooks()


@pytest.mark.slow
@pytest.mark.parametrize(
    "path",
    [pytest.param(p, id=relative(p), marks=notebook_group(p)) for p in NOTEBOOKS],
)
def test_notebook_runs(path: Path, run_notebook: Callable[[Path], ExecutedNotebook]) -> None:
    executed = run_notebook(path)
    assert executed.ok, f"{relative(path)} failed to run:\n{executed.report()}"


def test_there_are_notebooks() -> None:
    assert any(p.is_relative_to(REPO / "notebooks") for p in NOTEBOOKS), "no notebook in notebooks/"
