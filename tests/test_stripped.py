"""Committed notebooks carry no outputs or execution counts (outputs stay out of git)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import nbformat

from autograder.strip import REPO, SHOWS_OUTPUTS, dirty_cells

# Grading fixtures (e.g. submissions with the outputs a learner saved) keep what they carry.
EXEMPT_PREFIXES = ("autograder/",)


def _committed_notebooks() -> list[str]:
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--", "*.ipynb"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return [
        p for p in listed if not p.startswith(EXEMPT_PREFIXES) and p not in SHOWS_OUTPUTS
    ]


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


def test_shows_outputs_lists_real_notebooks() -> None:
    missing = [p for p in SHOWS_OUTPUTS if not (REPO / p).is_file()]
    assert not missing, f"autograder.strip.SHOWS_OUTPUTS names missing files: {missing}"
    assert all(Path(p).suffix == ".ipynb" for p in SHOWS_OUTPUTS)
