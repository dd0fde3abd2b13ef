"""Committed notebooks carry no outputs or execution counts (outputs stay out of git)."""

from __future__ import annotations

import subprocess

import nbformat

from autograder.strip import dirty_cells
from tests.support.paths import REPO


def _committed_notebooks() -> list[str]:
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--", "*.ipynb"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return listed


def test_committed_notebooks_are_stripped() -> None:
    dirty = []
    for name in _committed_notebooks():
        path = REPO / name
        if not path.exists():
            continue  # deleted in the work tree, not yet committed
        cells = dirty_cells(nbformat.read(path, as_version=4))
        if cells:
            dirty.append(f"{name} (cells {', '.join(map(str, cells))})")
    assert not dirty, f"notebooks with outputs: {'; '.join(dirty)}: run `make strip`"
