"""Lecture 07 teaches the entry point ps4 Part C grades: a helper thread joined from the running
loop blocks it (no tick of a background task), nest_asyncio's re-entered loop does not."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.nbrun import ExecutedNotebook, notebook_group

NB07 = "notebooks/07_asyncio_in_jupyter.ipynb"
Runner = Callable[[str], ExecutedNotebook]


def _text(executed: ExecutedNotebook, tag: str) -> str:
    found = [i for i, c in enumerate(executed.nb.cells) if tag in c.metadata.get("tags", [])]
    assert len(found) == 1, f"expected one cell tagged {tag!r}, found cells {found}"
    return executed.text(found[0]).strip()


@pytest.mark.slow
@notebook_group(NB07)
def test_07_a_joined_helper_thread_blocks_the_loop(run_notebook: Runner) -> None:
    assert _text(run_notebook(NB07), "claim-thread-blocks") == "('ping-pong', 0)"


@pytest.mark.slow
@notebook_group(NB07)
def test_07_run_main_lets_the_loop_run(run_notebook: Runner) -> None:
    executed = run_notebook(NB07)
    line = _text(executed, "claim-nest-keeps-ticking")
    assert line.startswith("ticks while run_main worked in the notebook: ")
    assert int(line.rsplit(" ", 1)[1]) > 0
    assert _text(executed, "claim-entry-both") == "notebook: ping-pong; script: ping-pong"
