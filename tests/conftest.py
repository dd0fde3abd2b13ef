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


#: xdist groups whose tests share a long fixture (a class graded end to end), longest first.
#: They are collected first, so that with ``--dist loadgroup`` each starts at once on a worker
#: instead of last, when the other worker may have nothing left to do.
LONG_GROUPS = ("hostile", "bank:ps2", "bank:ps1", "bank:ps4", "bank:ps3", "browser",
               "class_grading", "lms_roundtrip", "multi_notebook", "cluster")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    def rank(item: pytest.Item) -> int:
        mark = item.get_closest_marker("xdist_group")
        name = (mark.args[0] if mark.args else mark.kwargs.get("name")) if mark else None
        return LONG_GROUPS.index(name) if name in LONG_GROUPS else len(LONG_GROUPS)

    items.sort(key=rank)  # stable: within a rank, the collection order stays
