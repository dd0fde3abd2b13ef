"""Remove outputs and execution counts from notebooks: ``python -m autograder.strip PATH...``.

nbconvert's ClearOutputPreprocessor also drops cell metadata nbgrader needs and rewrites files
that were already clean; this keeps every metadata field except volatile execution timings and
writes a file only when it changes, so ``git status`` stays quiet.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path

import nbformat
from nbformat import NotebookNode

# Cell metadata JupyterLab and nbclient add on every run; they only make diffs noisy.
VOLATILE_CELL_METADATA = ("execution", "ExecuteTime")


def dirty_cells(nb: NotebookNode) -> list[int]:
    """Indices of the cells that carry outputs, an execution count or run timings."""
    dirty = []
    for index, cell in enumerate(nb.cells):
        ran = cell.cell_type == "code" and (cell.get("outputs") or cell.get("execution_count"))
        timed = any(key in cell.get("metadata", {}) for key in VOLATILE_CELL_METADATA)
        if ran or timed:
            dirty.append(index)
    return dirty


def strip_notebook(nb: NotebookNode) -> bool:
    """Strip ``nb`` in place; return whether anything changed."""
    changed = False
    for index in dirty_cells(nb):
        cell = nb.cells[index]
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
        for key in VOLATILE_CELL_METADATA:
            cell.metadata.pop(key, None)
        changed = True
    return changed


def notebook_paths(paths: Iterable[Path]) -> Iterator[Path]:
    """The notebooks in ``paths`` (files, or folders searched recursively), checkpoints skipped."""
    for path in paths:
        found = sorted(path.rglob("*.ipynb")) if path.is_dir() else [path]
        yield from (p for p in found if ".ipynb_checkpoints" not in p.parts)


def strip_file(path: Path) -> bool:
    """Strip one notebook file; rewrite it only if it changed. Return whether it changed."""
    nb = nbformat.read(path, as_version=nbformat.NO_CONVERT)
    if not strip_notebook(nb):
        return False
    nbformat.write(nb, path)
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m autograder.strip", description=__doc__)
    parser.add_argument("paths", nargs="+", type=Path, help="notebooks or folders")
    args = parser.parse_args(argv)
    missing = [str(p) for p in args.paths if not p.exists()]
    if missing:
        parser.error(f"no such file or folder: {', '.join(missing)}")
    for path in notebook_paths(args.paths):
        if strip_file(path):
            print(f"stripped {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
