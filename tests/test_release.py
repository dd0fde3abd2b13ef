"""The committed student versions (release/) match what nbgrader generates from source/ now,
and leak neither solutions nor hidden tests."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest
from nbformat import NotebookNode

from autograder.release import assignments, generate_release
from tests.support.paths import RELEASE, SOURCE

ASSIGNMENTS = assignments(SOURCE)
# Regions nbgrader removes from the student version, as (begin, end) markers.
SECRET_REGIONS = {
    "solution": ("### BEGIN SOLUTION", "### END SOLUTION"),
    "hidden-test": ("### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"),
}
# A line of a secret region is only a leak if it says something: not blank, not bare punctuation
# or a keyword, and not also a line of the notebook outside every secret region.
TRIVIAL = re.compile(r"^[\W_]*(pass|return|else|try|finally|break|continue)?[\W_]*$")


def _view(nb: NotebookNode) -> list[tuple[str, str, dict[str, object]]]:
    """What must match between committed and generated: cell type, source, nbgrader metadata."""
    return [(c.cell_type, c.source, dict(c.metadata.get("nbgrader", {}))) for c in nb.cells]


def _files(folder: Path) -> list[str]:
    return sorted(
        p.relative_to(folder).as_posix()
        for p in folder.rglob("*")
        if p.is_file() and ".ipynb_checkpoints" not in p.parts
    )


def test_every_source_assignment_has_a_release() -> None:
    assert ASSIGNMENTS, "no assignment in source/"
    missing = [a for a in ASSIGNMENTS if not (RELEASE / a).is_dir()]
    assert not missing, f"no release/ for {', '.join(missing)}: run `make release`"


def test_every_release_has_a_source() -> None:
    orphans = sorted(p.name for p in RELEASE.iterdir() if p.is_dir() and p.name not in ASSIGNMENTS)
    assert not orphans, f"release/ has no source/ for {', '.join(orphans)}: remove them"


@pytest.mark.slow
@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_release_is_up_to_date(assignment: str, tmp_path: Path) -> None:
    generated = generate_release(assignment, tmp_path, source_root=SOURCE)
    committed = RELEASE / assignment
    stale = f"release/{assignment} is out of date: run `make release`"
    assert _files(committed) == _files(generated), stale
    for name in _files(generated):
        if not name.endswith(".ipynb"):
            assert (committed / name).read_bytes() == (generated / name).read_bytes(), stale
            continue
        want = _view(nbformat.read(generated / name, as_version=4))
        have = _view(nbformat.read(committed / name, as_version=4))
        assert have == want, f"{stale} ({name} differs)"


def _secret_lines(nb: NotebookNode, region: str) -> set[str]:
    """Meaningful lines inside ``region`` blocks that occur nowhere outside such blocks."""
    begin, end = SECRET_REGIONS[region]
    inside: set[str] = set()
    outside: set[str] = set()
    for cell in nb.cells:
        depth = 0
        for raw in cell.source.splitlines():
            line = raw.strip()
            if line.startswith(begin):
                depth += 1
            elif line.startswith(end):
                depth = max(depth - 1, 0)
            else:
                (inside if depth else outside).add(line)
    return {line for line in inside - outside if not TRIVIAL.match(line)}


@pytest.mark.parametrize("region", sorted(SECRET_REGIONS))
@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_release_leaks_nothing(assignment: str, region: str) -> None:
    for source_nb in sorted((SOURCE / assignment).glob("*.ipynb")):
        released = RELEASE / assignment / source_nb.name
        if not released.exists():
            continue  # test_release_is_up_to_date reports it
        secrets = _secret_lines(nbformat.read(source_nb, as_version=4), region)
        shown = {
            line.strip()
            for cell in nbformat.read(released, as_version=4).cells
            for line in cell.source.splitlines()
        }
        leaked = sorted(secrets & shown)
        assert not leaked, (
            f"release/{assignment}/{source_nb.name} shows {region} text: {leaked}; "
            "check the ### BEGIN/END markers in source/ and run `make release`"
        )
