"""Lecture 09 shows what it claims, topic by topic, checked on the outputs of the executed notebook.

Like ``test_lectures_05_08.py``: the notebook runs once per session (``run_notebook``), cells are
found by their ``claim-*`` tags, and ``notebook_group`` keeps these tests on the worker that ran it.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import nbformat
import pytest

from tests.nbrun import REPO, ExecutedNotebook, notebook_group

Runner = Callable[[str], ExecutedNotebook]
NB09 = "notebooks/09_next_steps.ipynb"


def claim(executed: ExecutedNotebook, tag: str) -> list[str]:
    """The lines the one cell tagged ``tag`` printed."""
    found = [i for i, c in enumerate(executed.nb.cells) if tag in c.metadata.get("tags", [])]
    assert len(found) == 1, f"expected one cell tagged {tag!r}, found {found}"
    assert executed.ok, executed.report()
    lines = executed.text(found[0]).splitlines()
    assert lines, f"the cell tagged {tag!r} showed nothing"
    return lines


def test_09_has_the_course_structure() -> None:
    nb = nbformat.read(REPO / NB09, as_version=4)
    markdown = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    title = nb.cells[0].source
    assert title.startswith("# 09 ") and "After this notebook you can" in title
    assert "## Check yourself" in markdown and "<details>" in markdown
    for topic in ("asyncio.Lock", "asyncio.Event", "asyncio.start_server", "open_connection",
                  "debug=True", "PYTHONASYNCIODEBUG", "backoff", "gracefully",
                  "IsolatedAsyncioTestCase", "add_done_callback"):
        assert topic in markdown, f"09 does not explain {topic}"
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert len(cell.source.splitlines()) <= 20, f"long code cell:\n{cell.source}"




@pytest.mark.slow
@notebook_group(NB09)
def test_09_background_tasks_kept_and_their_failures_reported(run_notebook: Runner) -> None:
    ex = run_notebook(NB09)
    assert claim(ex, "claim-background-reported") == [
        "failures: [\"export: ValueError('disk full')\"]; still kept: 0"]
    assert claim(ex, "claim-never-retrieved") == ["['Task exception was never retrieved']"]


@pytest.mark.slow
@notebook_group(NB09)
def test_09_a_lock_prevents_lost_updates_and_an_event_wakes_all(run_notebook: Runner) -> None:
    ex = run_notebook(NB09)
    assert claim(ex, "claim-lost-update") == ["balance 10 after 0.1 s"]
    assert claim(ex, "claim-lock") == ["balance 50 after 0.5 s"]
    assert claim(ex, "claim-event") == [
        "3.0 s: gun fired (was set before? False)",
        "3.0 s: Ana runs", "3.0 s: Ben runs", "3.0 s: Cy runs"]


@pytest.mark.slow
@notebook_group(NB09)
def test_09_streams_serve_two_clients_on_localhost(run_notebook: Runner) -> None:
    assert claim(run_notebook(NB09), "claim-streams") == ["[['HELLO', 'WORLD'], ['ASYNC', 'IO']]"]


@pytest.mark.slow
@notebook_group(NB09)
def test_09_debug_mode_reports_the_slow_step(run_notebook: Runner) -> None:
    ex = run_notebook(NB09)
    took = r"took (\d+\.\d+) seconds"
    (line,) = claim(ex, "claim-debug-slow")
    assert line.startswith("Executing <Task finished")
    assert float(re.findall(took, line)[0]) >= 0.25 - 0.005, "the 0.25 s time.sleep in hog"
    env = claim(ex, "claim-debug-env")
    assert env[0] == "debug mode on: True", "PYTHONASYNCIODEBUG=1 turned debug mode on"
    assert env[1].startswith("stderr: Executing <Task finished")
    assert float(re.findall(took, env[1])[0]) >= 0.25 - 0.005


@pytest.mark.slow
@notebook_group(NB09)
def test_09_retries_back_off_exponentially(run_notebook: Runner) -> None:
    assert claim(run_notebook(NB09), "claim-backoff") == [
        "'data'; calls started at [0.0, 1.1, 3.2, 7.3]"]  # waits of 1, 2, 4 s after 0.1 s calls


@pytest.mark.slow
@notebook_group(NB09)
def test_09_graceful_shutdown(run_notebook: Runner) -> None:
    assert claim(run_notebook(NB09), "claim-shutdown") == [
        "1.5 s: request 0 done",
        "3.5 s: request 2 done",
        "4.5 s: stopped taking requests; 3 running",
        "5.0 s: request 1 done",
        "6.0 s: request 3 done",
        "6.5 s: request 4 cut off",  # after the 2 s grace period
        "6.5 s: shut down",
    ]


@pytest.mark.slow
@notebook_group(NB09)
def test_09_isolated_asyncio_tests_run_and_plain_ones_do_not(run_notebook: Runner) -> None:
    ex = run_notebook(NB09)
    assert claim(ex, "claim-isolated-tests") == [
        "test_a_wrong_expectation_fails ... FAIL",
        "test_data_after_two_failures ... ok",
        "test_gives_up_with_the_last_error ... ok",
    ]
    assert claim(ex, "claim-plain-testcase") == ["OK ['DeprecationWarning', 'RuntimeWarning']"]
