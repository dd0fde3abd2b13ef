"""Fixtures shared by the whole suite.

``run_notebook(path)`` executes a notebook (see ``tests/nbrun.py``) at most once per test session
and xdist worker, so ``test_notebooks.py`` and the lecture-content tests share one execution.
Mark lecture tests with ``nbrun.notebook_group(path)`` to land on the same worker.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.nbrun import REPO, ExecutedNotebook, execute_notebook


@pytest.fixture(scope="session")
def run_notebook() -> Callable[[str | Path], ExecutedNotebook]:
    """``run_notebook("notebooks/00_welcome.ipynb") -> ExecutedNotebook``, cached by path."""
    cache: dict[Path, ExecutedNotebook] = {}

    def run(path: str | Path) -> ExecutedNotebook:
        resolved = (REPO / path).resolve()
        if resolved not in cache:
            cache[resolved] = execute_notebook(resolved)
        return cache[resolved]

    return run
