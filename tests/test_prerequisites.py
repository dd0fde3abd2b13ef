"""The syllabus: each problem set comes after the lectures that teach what its solution needs.

The reading order is written once, in the README (a line such as
`` `00` → `01` → `02` → **ps1** → ... ``), and the welcome notebook repeats it word for word.
Every asyncio API the reference solution of a problem set uses (the code between
``### BEGIN SOLUTION`` and ``### END SOLUTION`` in ``source/<ps>/<ps>.ipynb``, scanned as
``tests/support/apis.py`` describes) must appear in a code cell of a lecture that comes before
that problem set, unless ``ALLOWED`` says why the problem set introduces it itself. The scan reads
the current ``source/``, so a changed solution that needs something new names the API, the cell
and the lecture that would teach it too late.
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

from tests.support.apis import Scanner, Uses
from tests.support.paths import NOTEBOOKS, REPO, SOURCE

ORDER_LINE = re.compile(r"^ *`00` → .*$", re.MULTILINE)
STEP = re.compile(r"`(\d\d)`|\*\*(ps\d+)\*\*")

# (problem set, API) -> why the problem set may use it before any lecture shows it
ALLOWED: dict[tuple[str, str], str] = {}


def reading_order(text: str, where: str) -> list[str]:
    """``["00", "01", "02", "ps1", ...]`` from the one reading-order line in ``text``."""
    lines = ORDER_LINE.findall(text)
    assert len(lines) == 1, f"{where} should have one reading-order line (`00` → ...), has {lines}"
    return [lecture or ps for lecture, ps in STEP.findall(lines[0])]


def readme_order() -> list[str]:
    return reading_order((REPO / "README.md").read_text(encoding="utf-8"), "README.md")


def lectures() -> dict[str, Path]:
    return {p.name[:2]: p for p in sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))}


def problem_sets() -> list[str]:
    return sorted(p.parent.name for p in SOURCE.glob("*/*.ipynb"))


def solution_lines(source: str) -> list[int]:
    """1-based numbers of the lines between the solution markers of a cell."""
    lines, inside = [], False
    for number, line in enumerate(source.splitlines(), start=1):
        if "### BEGIN SOLUTION" in line:
            inside = True
        elif "### END SOLUTION" in line:
            inside = False
        elif inside:
            lines.append(number)
    return lines


def solution_uses(assignment: str) -> dict[str, str]:
    """API -> where the reference solution first uses it ("cell `later`, line 4")."""
    nb = nbformat.read(SOURCE / assignment / f"{assignment}.ipynb", as_version=4)
    scanner, found = Scanner(), {}
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        lines = solution_lines(cell.source)
        uses = scanner.scan(cell.source, lines if lines else [])
        cell_id = cell.metadata.get("nbgrader", {}).get("grade_id", cell.get("id"))
        for api, line in uses.first_line.items():
            found.setdefault(api, f"cell `{cell_id}`, line {line}")
    return found


def lecture_uses(numbers: list[str]) -> Uses:
    """Everything the code cells of these lectures use, in reading order."""
    all_uses = Uses()
    for number in numbers:
        scanner = Scanner()
        nb = nbformat.read(lectures()[number], as_version=4)
        for cell in nb.cells:
            if cell.cell_type == "code":
                for api, line in scanner.scan(cell.source).first_line.items():
                    all_uses.add(api, line)
    return all_uses


def before(assignment: str) -> list[str]:
    order = readme_order()
    return [step for step in order[:order.index(assignment)] if not step.startswith("ps")]


def missing(assignment: str) -> dict[str, str]:
    """The APIs of ``assignment``'s solution that no earlier lecture shows, with where used."""
    shown = lecture_uses(before(assignment))
    return {api: where for api, where in solution_uses(assignment).items() if api not in shown}


# ------------------------------------------------------------------ the reading order
def test_readme_and_welcome_give_the_same_reading_order() -> None:
    welcome = nbformat.read(NOTEBOOKS / "00_welcome.ipynb", as_version=4)
    text = "\n".join(c.source for c in welcome.cells if c.cell_type == "markdown")
    assert reading_order(text, "00_welcome.ipynb") == readme_order()


def test_the_order_has_every_lecture_and_problem_set_once() -> None:
    order = readme_order()
    assert sorted(s for s in order if not s.startswith("ps")) == sorted(lectures())
    assert sorted(s for s in order if s.startswith("ps")) == problem_sets()
    assert order[0] == "00" and len(set(order)) == len(order)
    assert [s for s in order if s.startswith("ps")] == problem_sets(), "ps1, ps2, ... in order"


def test_readme_lecture_table_lists_every_lecture() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    for path in lectures().values():
        assert f"| `notebooks/{path.name}` |" in readme, f"README's table misses {path.name}"


# ------------------------------------------------------------------ the scan
@pytest.mark.parametrize("assignment", problem_sets())
def test_solution_uses_only_apis_an_earlier_lecture_shows(assignment: str) -> None:
    gaps = {api: where for api, where in missing(assignment).items()
            if (assignment, api) not in ALLOWED}
    lectures_before = ", ".join(before(assignment))
    later = lecture_uses([n for n in lectures() if n not in before(assignment)])
    report = [f"{assignment}'s solution uses `{api}` ({where}), but no code cell of lectures "
              f"{lectures_before} shows it"
              + ("; a later lecture does: move it earlier" if api in later else "")
              for api, where in sorted(gaps.items())]
    assert not report, "\n".join(report)


def test_every_allowance_is_still_needed_and_says_why() -> None:
    for (assignment, api), reason in ALLOWED.items():
        assert len(reason.split()) >= 5, f"say why {assignment} may use {api}"
        assert api in missing(assignment), (
            f"{assignment} no longer needs an allowance for {api}: remove it from ALLOWED")


def test_the_scan_names_apis_as_a_learner_meets_them() -> None:
    source = '''
import asyncio as aio
from asyncio import Queue

async def main(done: aio.Event) -> None:
    jobs: Queue[int] = Queue()
    jobs.put_nowait(1)
    await jobs.join()
    ", ".join(["not", "a", "queue"])
    results = await aio.gather(aio.sleep(1), return_exceptions=True)
    gate = aio.Semaphore(2)
    async with gate:
        done.set()
    results[0].add_done_callback(print)
'''
    uses = Scanner().scan(source)
    assert set(uses.first_line) == {
        "asyncio.Event", "asyncio.Queue", ".put_nowait()", "Queue.join()", "asyncio.gather",
        "asyncio.sleep", "asyncio.gather(return_exceptions=)", "asyncio.Semaphore",
        "async with Semaphore", "Event.set()", ".add_done_callback()"}
    assert "Queue.join()" not in Scanner().scan(source, lines=[9]), "str.join is not Queue.join"
    assert Scanner().scan("%matplotlib inline\nawait asyncio.sleep(1)").first_line == {
        "asyncio.sleep": 2}
