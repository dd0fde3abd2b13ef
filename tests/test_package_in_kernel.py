"""The package inside a real Jupyter kernel: the kernel's loop runs, and later nest_asyncio."""

from __future__ import annotations

import nbformat
import pytest
from nbclient import NotebookClient

pytestmark = pytest.mark.slow  # a real kernel

CELLS = [
    "import asyncio, time\nfrom asyncourse import run_virtual, run_real, plot_comparison, grade",
    "async def fetch(d):\n    await asyncio.sleep(d)\n    return d",
    "kernel_loop = asyncio.get_running_loop()\n"
    "def plain():\n    return 42\nrun_virtual(plain)",
    "async def one_by_one(ds):\n    return [await fetch(d) for d in ds]\n"
    "async def together(ds):\n    return await asyncio.gather(*(fetch(d) for d in ds))\n"
    "seq, con = run_virtual(one_by_one, [1, 2, 3]), run_virtual(together, [1, 2, 3])\n"
    "print(seq.elapsed, con.elapsed, asyncio.get_running_loop() is kernel_loop)",
    "plot_comparison(seq, con, titles=['sequential', 'concurrent'])",
    "async def forgot():\n    fetch(1)\n    await asyncio.sleep(1)\n"
    "print(run_virtual(forgot).messages()[0])",
    "async def blocks():\n    time.sleep(2)\nprint(run_virtual(blocks).messages()[0])",
    "real = await run_real(together, [0.05, 0.1])\nprint(real.result, real.virtual)",
    "from asyncourse import expect_elapsed\n"
    "expect_elapsed(grade(one_by_one, [1, 2]), 2.0, sequential=3.0)",
    "import nest_asyncio\nnest_asyncio.apply()\nprint(asyncio.run(fetch(0.01)))",
    "print(run_virtual(together, [4, 5]).elapsed)",
]


@pytest.fixture(scope="module")
def executed() -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in CELLS])
    nb.cells[2].metadata["tags"] = ["raises-exception"]
    NotebookClient(nb, timeout=60, kernel_name="python3", allow_errors=True).execute()
    return nb


def _text(cell: nbformat.NotebookNode) -> str:
    return "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")


def test_no_stderr_anywhere(executed: nbformat.NotebookNode) -> None:
    streams = [o for c in executed.cells for o in c.outputs if o.get("name") == "stderr"]
    assert streams == []


def test_virtual_runs_leave_the_kernel_loop_alone(executed: nbformat.NotebookNode) -> None:
    assert _text(executed.cells[3]) == "6.0 3.0 True\n"
    assert "not a coroutine function" in executed.cells[2].outputs[0]["evalue"]


def test_plot_and_detectors_in_the_kernel(executed: nbformat.NotebookNode) -> None:
    assert "image/png" in executed.cells[4].outputs[0]["data"]
    assert _text(executed.cells[5]).startswith(
        "the coroutine `fetch` created at line 2 (in `forgot`) was never awaited")
    assert _text(executed.cells[6]) == ("the event loop was blocked 2.0 s by `time.sleep` in "
                                        "`blocks` at line 2\n")
    assert _text(executed.cells[7]) == "[0.05, 0.1] False\n"


def test_grading_failure_shows_only_the_message(executed: nbformat.NotebookNode) -> None:
    (error,) = executed.cells[8].outputs
    assert error["ename"] == "GradingFailure"
    assert " ".join(line.strip() for line in error["traceback"]) == (
        "GradingFailure: the run took 3.0 virtual seconds, the sum of the delays: the calls ran "
        "one after another. Start them all before awaiting any (asyncio.gather, a TaskGroup or "
        "create_task) so that it takes 2.0 s, the longest one.")
    assert max(len(line) for line in error["traceback"]) <= 88


def test_works_after_nest_asyncio(executed: nbformat.NotebookNode) -> None:
    assert _text(executed.cells[9]) == "0.01\n"
    assert _text(executed.cells[10]) == "5.0\n"
