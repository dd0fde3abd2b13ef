"""The learner and the instructor in JupyterLab, in a real browser.

1. A learner opens a lecture, runs every cell (Run > Run All Cells) and sees no error and the
   timeline plots drawn.
2. A learner types a sequential `fetch_all` into the problem set that asks for it, presses
   nbgrader's Validate button and reads why it fails (the calls ran one after another); then types
   a concurrent one, Validate says the notebook passes, and Run All shows it with no error.
3. The instructor sees the course's assignments in the formgrader and releases one; the learner's
   Assignment List then loads without error, lists it, and Fetch downloads it.

Every step leaves a screenshot in test-artifacts/browser/. Fixtures: tests/browser/conftest.py.
"""

from __future__ import annotations

import ast
import json
import re
import secrets
from pathlib import Path
from typing import TYPE_CHECKING

import nbformat
import pytest
from playwright.sync_api import Locator, Page, expect

from tests.support.paths import REPO

if TYPE_CHECKING:
    from tests.browser.conftest import Lab

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

KERNEL_TIMEOUT = 90_000  # ms: a kernel starting on a busy 2-core machine
RUN_ALL_TIMEOUT = 120_000  # ms: a whole lecture (virtual time keeps them fast)
VALIDATE_TIMEOUT = 120_000  # ms: nbgrader restarts a kernel and runs the whole notebook
# A cell calling one of these draws a timeline and must show it.
PLOT_CALL = re.compile(r"\bplot_timeline\(|\bplot_comparison\(|\.plot\(")
STDERR = '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]'

QUESTION = "fetch_all"  # grade_id of the solution cell the learner types (in whichever assignment)
# Its answers as a learner would type them (each body is one line, so the editor's
# auto-indent never has to be undone).
SEQUENTIAL_FETCH_ALL = (
    "async def fetch_all(delays: list[float]) -> list[float]:\n"
    "return [await fetch(d) for d in delays]"
)
CONCURRENT_FETCH_ALL = (
    "async def fetch_all(delays: list[float]) -> list[float]:\n"
    "return list(await asyncio.gather(*(fetch(d) for d in delays)))"
)


def lecture_notebooks() -> list[str]:
    """The welcome notebook (what `make lab` opens) and the first lecture once it exists."""
    first_lecture = sorted((REPO / "notebooks").glob("01_*.ipynb"))[:1]
    return ["notebooks/00_welcome.ipynb", *(f"notebooks/{p.name}" for p in first_lecture)]


def read_notebook(path: Path) -> list[dict[str, object]]:
    assert path.is_file(), f"{path.relative_to(path.parents[2])} does not exist"
    cells: list[dict[str, object]] = json.loads(path.read_text())["cells"]
    return cells


def source(cell: dict[str, object]) -> str:
    text = cell["source"]
    return "".join(text) if isinstance(text, list) else str(text)


def tags(cell: dict[str, object]) -> list[str]:
    meta = cell.get("metadata")
    return list(meta.get("tags", [])) if isinstance(meta, dict) else []


def course_id() -> str:
    found = re.search(r"course_id\s*=\s*[\"']([^\"']+)", (REPO / "nbgrader_config.py").read_text())
    assert found, "nbgrader_config.py sets no CourseDirectory.course_id"
    return found.group(1)


def shot(page: Page, artifacts: Path, name: str) -> None:
    page.screenshot(path=str(artifacts / f"{name}.png"))


def fresh_workspace() -> str:
    """A new JupyterLab workspace name: no tab of an earlier test reopens."""
    return f"test-{secrets.token_hex(4)}"


def open_notebook(page: Page, lab: Lab, path: str) -> Locator:
    """Open `path` in a fresh workspace; return its notebook panel once its kernel is idle."""
    page.goto(lab.url(f"lab/workspaces/{fresh_workspace()}/tree/{path}"))
    panel = page.locator(".jp-NotebookPanel").filter(has=page.locator(".jp-Notebook"))
    expect(
        page.locator(".jp-DocumentWidget .lm-TabBar-tabLabel, .lm-TabBar-tab.lm-mod-current")
        .filter(has_text=Path(path).name)
        .first
    ).to_be_visible()
    expect(panel).to_have_count(1)
    # The toolbar's indicator says "idle" before any kernel exists; the status bar names the
    # kernel once it is connected ("Python 3 (ipykernel) | Idle", not "No Kernel | ...").
    kernel_status = page.locator("#jp-main-statusbar").get_by_text(
        re.compile(r"^(?!No Kernel).+ \| Idle$")
    )
    expect(kernel_status).to_be_visible(timeout=KERNEL_TIMEOUT)
    expect(panel.locator('.jp-Notebook-ExecutionIndicator[data-status="idle"]')).to_be_visible()
    return panel


def run_menu(page: Page, menu: str, item: str) -> None:
    page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(f"^{menu}$")).click()
    page.locator(".lm-Menu-itemLabel", has_text=re.compile(f"^{re.escape(item)}$")).click()


def wait_until_ran(page: Page, panel: Locator, may_raise: list[bool]) -> None:
    """Wait until Run All is over: every code cell numbered, or an error stopped the run.

    JupyterLab runs the cells one after another and a queued cell still shows `[ ]:`, so "no
    `[*]` and the kernel idle" also holds between two cells; the run is over only when no cell is
    left to run, or the last cell that ran wrote an error (without the raises-exception tag,
    which lets Run All go on) and so stopped it. `may_raise[k]`: the k-th code cell's tag.
    """
    page.wait_for_function(
        """([panel, mayRaise]) => {
            const cells = [...panel.querySelectorAll('.jp-Notebook .jp-CodeCell')];
            const prompts = cells.map(
                c => c.querySelector('.jp-InputArea-prompt')?.textContent.trim() ?? '');
            const status = panel.querySelector('.jp-Notebook-ExecutionIndicator')
                ?.getAttribute('data-status');
            if (status !== 'idle' || prompts.some(p => p.includes('*'))) return false;
            const next = prompts.findIndex(p => !/^\\[\\d+\\]:$/.test(p));
            if (next === -1) return true;
            if (next === 0) return false;
            const last = cells[next - 1];
            const stderr = 'application/vnd.jupyter.stderr';
            return !mayRaise[next - 1]
                && last.querySelector(`.jp-OutputArea-output[data-mime-type="${stderr}"]`) !== null;
        }""",
        arg=[panel.element_handle(), may_raise],
        timeout=RUN_ALL_TIMEOUT,
    )


def draws_timeline(code: str) -> bool:
    """Does the cell itself draw (a plot call outside any def), so its output must show it?"""
    try:
        tree = compile(code, "<cell>", "exec", ast.PyCF_ONLY_AST | ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
    except SyntaxError:
        return bool(PLOT_CALL.search(code))
    todo: list[ast.AST] = list(tree.body)
    while todo:
        node = todo.pop()
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.Lambda):
            continue
        if isinstance(node, ast.Call) and PLOT_CALL.search(ast.unparse(node.func) + "("):
            return True
        todo.extend(ast.iter_child_nodes(node))
    return False


def run_all_and_check(page: Page, panel: Locator, cells: list[dict[str, object]]) -> list[int]:
    """Run > Run All Cells, wait, and check every code cell's outputs; return the plot cells.

    A code cell must have run and written nothing to stderr (no error) unless it is tagged
    raises-exception, in which case it must show its error; a cell drawing a timeline must show
    it as an image, and every output image must have loaded.
    """
    dom_cells = panel.locator(".jp-Notebook .jp-Cell")
    expect(dom_cells).to_have_count(len(cells))
    run_menu(page, "Run", "Run All Cells")
    first_prompt = panel.locator(".jp-CodeCell .jp-InputArea-prompt").first
    try:
        expect(first_prompt).not_to_have_text("[ ]:")
    except AssertionError:
        dialogs = page.locator(".jp-Dialog").all_inner_texts()
        raise AssertionError(f"Run All Cells ran nothing (dialogs open: {dialogs})") from None
    code = [c for c in cells if c["cell_type"] == "code"]
    wait_until_ran(page, panel, ["raises-exception" in tags(c) for c in code])

    problems: dict[int, str] = {}  # cell index -> what is wrong with it
    plotted: list[int] = []
    for i, cell in enumerate(cells):
        if cell["cell_type"] != "code":
            continue
        dom = dom_cells.nth(i)
        prompt = dom.locator(".jp-InputArea-prompt").inner_text().strip()
        errors = dom.locator(STDERR)
        if not re.fullmatch(r"\[\d+\]:", prompt):
            problems[i] = f"did not run (prompt {prompt!r})"
        elif "raises-exception" in tags(cell):
            if errors.count() == 0:
                problems[i] = "is tagged raises-exception but showed no error"
        elif errors.count():
            problems[i] = f"wrote an error:\n{errors.first.inner_text()[:800]}"
        elif draws_timeline(source(cell)):
            plotted.append(i)
            if dom.locator(".jp-OutputArea-output img").count() == 0:
                hint = ""
                if any(
                    PLOT_CALL.search(ln) and ln.rstrip().endswith(";")
                    for ln in source(cell).splitlines()
                ):
                    hint = " (its plot call ends with ';', which hides the figure it returns)"
                problems[i] = f"draws a timeline but shows no image{hint}"
    for i in range(len(cells)):  # every image in an output has loaded, none is broken
        images = dom_cells.nth(i).locator(".jp-OutputArea-output img")
        if i in problems or not images.count():
            continue
        page.wait_for_function(
            "imgs => imgs.every(i => i.complete)", arg=images.element_handles(), timeout=30_000
        )
        sizes = images.evaluate_all("imgs => imgs.map(i => [i.naturalWidth, i.naturalHeight])")
        if not all(w > 0 and h > 0 for w, h in sizes):
            problems[i] = f"shows an image that did not render (natural sizes {sizes})"
    # The screenshot shows the first cell with a problem, else the first timeline.
    if problems or plotted:
        dom_cells.nth(min(problems) if problems else plotted[0]).scroll_into_view_if_needed()
    assert not problems, "after Run All Cells in JupyterLab:\n" + "\n".join(
        f"cell {i} {what}" for i, what in sorted(problems.items())
    )
    return plotted


@pytest.mark.parametrize("path", lecture_notebooks())
def test_lecture_runs_all_cells_without_errors(
    page: Page, lab: Lab, artifacts: Path, path: str
) -> None:
    cells = read_notebook(lab.root / path)
    panel = open_notebook(page, lab, path)
    try:
        plotted = run_all_and_check(page, panel, cells)
    finally:
        shot(page, artifacts, f"1-lecture-{Path(path).stem}-ran")
    if any(draws_timeline(source(c)) for c in cells if c["cell_type"] == "code"):
        assert plotted, f"{path} draws timelines only in cells tagged raises-exception"


def set_cell_text(page: Page, cell: Locator, text: str) -> None:
    """Replace a cell's code the way a learner does: click it, select all, type."""
    editor = cell.locator(".jp-InputArea-editor .cm-content")
    editor.click()
    page.keyboard.press("ControlOrMeta+a")
    page.keyboard.press("Delete")
    for n, line in enumerate(text.split("\n")):
        if n:
            page.keyboard.press("Enter")  # the editor indents the next line itself
        page.keyboard.type(line)
    got = [ln.strip() for ln in cell.locator(".cm-line").all_inner_texts()]
    assert got == [ln.strip() for ln in text.split("\n")], f"the editor holds {got}"


def validate(page: Page, panel: Locator) -> Locator:
    """Save, press nbgrader's Validate button, return the results dialog once it shows."""
    page.keyboard.press("ControlOrMeta+s")
    expect(page.locator(".lm-TabBar-tab.lm-mod-current.jp-mod-dirty")).to_have_count(0)
    panel.locator(".jp-Toolbar-item.validate-button, .validate-button").first.click()
    dialog = page.locator(".jp-Dialog")
    expect(dialog.locator(".jp-Dialog-header")).to_have_text(
        "Validation Results", timeout=VALIDATE_TIMEOUT
    )
    return dialog


def close_dialog(page: Page) -> None:
    page.locator(".jp-Dialog").get_by_role("button", name="Ok").click()
    expect(page.locator(".jp-Dialog")).to_have_count(0)


def solution_cells(nb: nbformat.NotebookNode) -> dict[str, str]:
    """grade_id -> source of the notebook's solution cells."""
    return {
        c.metadata["nbgrader"]["grade_id"]: c.source
        for c in nb.cells
        if c.metadata.get("nbgrader", {}).get("solution")
    }


def learner_copy(root: Path, question: str) -> tuple[str, Path, int]:
    """The released assignment holding `question`, copied into root/learner/ as a learner who
    answered every other question (with the instructor's reference solutions) would have it.

    Returns (assignment, notebook path relative to root, index of the `question` cell).
    """
    for source_nb in sorted((root / "source").glob("*/*.ipynb")):
        references = solution_cells(nbformat.read(source_nb, as_version=4))
        if question in references:
            break
    else:
        raise AssertionError(f"no source/<assignment>/*.ipynb has a solution cell {question!r}")
    assignment = source_nb.parent.name
    released = root / "release" / assignment / source_nb.name
    assert released.is_file(), f"{released.relative_to(root)} is missing: run `make release`"
    nb = nbformat.read(released, as_version=4)
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if cell.metadata.get("nbgrader", {}).get("solution") and grade_id != question:
            cell.source = references[grade_id]
    target = root / "learner" / assignment / released.name
    target.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, target)
    index = next(
        i for i, c in enumerate(nb.cells)
        if c.metadata.get("nbgrader", {}).get("grade_id") == question
    )  # fmt: skip
    return assignment, target.relative_to(root), index


def test_learner_validates_wrong_then_right_answer(page: Page, lab: Lab, artifacts: Path) -> None:
    assignment, path, answer = learner_copy(lab.root, QUESTION)
    cells = read_notebook(lab.root / path)
    assert "NotImplementedError" in source(cells[answer]), "the released answer cell is a stub"

    panel = open_notebook(page, lab, str(path))
    cell = panel.locator(".jp-Notebook .jp-Cell").nth(answer)

    set_cell_text(page, cell, SEQUENTIAL_FETCH_ALL)
    dialog = validate(page, panel)
    failed = dialog.locator(".validation-failed")
    # The results are right (that test passes): only the concurrency test fails, naming the
    # mistake in the learner's words.
    expect(failed.get_by_text("The following cell failed:")).to_have_count(1)
    expect(failed).to_contain_text("one after another")
    shot(page, artifacts, f"2a-learner-{assignment}-validate-sequential-fails")
    close_dialog(page)

    set_cell_text(page, cell, CONCURRENT_FETCH_ALL)
    dialog = validate(page, panel)
    expect(dialog.locator(".validation-success")).to_have_text(
        "Success! Your notebook passes all the tests."
    )
    shot(page, artifacts, f"2b-learner-{assignment}-validate-concurrent-passes")
    close_dialog(page)

    # Running the notebook shows no error, and the learner's own timeline under the answer
    # (before the next question).
    try:
        run_all_and_check(page, panel, cells)
        after = [
            i for i in range(answer + 1, len(cells))
            if cells[i].get("metadata", {}).get("nbgrader", {}).get("solution")  # type: ignore[union-attr]
        ]  # fmt: skip
        stop = after[0] if after else len(cells)
        dom_cells = panel.locator(".jp-Notebook .jp-Cell")
        drawn = [i for i in range(answer + 1, stop) if dom_cells.nth(i).locator("img").count()]
        assert drawn, f"no timeline is drawn between the {QUESTION} answer and the next question"
        dom_cells.nth(drawn[0]).locator("img").first.scroll_into_view_if_needed()
    finally:
        shot(page, artifacts, f"2c-learner-{assignment}-run-all")


def test_instructor_formgrader_and_learner_assignment_list(
    page: Page, lab: Lab, artifacts: Path
) -> None:
    assignments = sorted(p.name for p in (lab.root / "source").iterdir() if p.is_dir())
    assert assignments, "source/ holds no assignment"
    releasable = [a for a in assignments if (lab.root / "release" / a).is_dir()]
    assert releasable, "no assignment has its student version in release/ (run `make release`)"

    page.goto(lab.url(f"lab/workspaces/{fresh_workspace()}"))
    run_menu(page, "Nbgrader", "Formgrader")
    grader = page.frame_locator(".jp-MainAreaWidget iframe").first

    def row(name: str) -> Locator:
        return grader.locator(f'#main-table tr:has(td.name a:text-is("{name}"))')

    for name in assignments:
        expect(row(name)).to_have_count(1)
    expect(grader.locator("#warning-exchange")).to_be_hidden()

    # The instructor releases the first assignment to the course's local exchange.
    first = row(releasable[0])
    first.locator("td.release a").click()
    expect(grader.locator(".modal-dialog")).to_contain_text(
        f"Successfully released '{releasable[0]}'"
    )
    grader.locator(".modal-dialog").get_by_role("button", name="OK").click()
    expect(grader.locator(".modal-dialog")).to_have_count(0)
    expect(grader.locator(".modal-backdrop")).to_have_count(0)
    expect(first.locator("td.status")).to_have_text("released")
    shot(page, artifacts, "3a-instructor-formgrader-released")

    # The learner's Assignment List loads without error and lists it for fetching.
    run_menu(page, "Nbgrader", "Assignment List")
    expect(page.locator("#course_list_default")).to_have_text(course_id())
    released_list = page.locator("#released_assignments_list")
    expect(released_list).to_contain_text(releasable[0])
    for kind in ["released", "fetched", "submitted"]:
        expect(page.locator(f"#{kind}_assignments_list_error")).to_be_hidden()
    shot(page, artifacts, "3b-learner-assignment-list")

    # The learner fetches it: it moves to the downloaded assignments.
    released_list.get_by_role("button", name="Fetch").click()
    expect(page.locator("#fetched_assignments_list")).to_contain_text(releasable[0])
    assert (lab.root / releasable[0]).is_dir()
    shot(page, artifacts, "3c-learner-fetched")
