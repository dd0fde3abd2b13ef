"""Lectures 05-08 show what they claim: checked on the outputs of the executed notebooks.

Each notebook is executed once per session by the ``run_notebook`` fixture (shared with
``test_notebooks.py``; ``notebook_group`` keeps its tests on the same xdist worker). Cells are found
by their tags: ``claim-*`` cells print what a claim is about, ``timeline-*`` cells display a
figure. Every figure is also saved under ``test-artifacts/figures/<notebook>/cell<N>.png`` so a
person can look at what learners see.
"""

from __future__ import annotations

import base64
import math
import re
from collections.abc import Callable
from pathlib import Path

import nbformat
import pytest

from tests.nbrun import REPO, ExecutedNotebook, notebook_group

Runner = Callable[[str], ExecutedNotebook]

NB05 = "notebooks/05_sequential_vs_concurrent.ipynb"
NB06 = "notebooks/06_pitfalls.ipynb"
NB07 = "notebooks/07_asyncio_in_jupyter.ipynb"
NB08 = "notebooks/08_beyond.ipynb"
NOTEBOOKS = [NB05, NB06, NB07, NB08]
FIGURES = REPO / "test-artifacts" / "figures"
NUMBER = r"(\d+(?:\.\d+)?)"


def tagged(executed: ExecutedNotebook, tag: str) -> int:
    """Index of the one cell carrying ``tag``."""
    found = [i for i, c in enumerate(executed.nb.cells) if tag in c.metadata.get("tags", [])]
    assert len(found) == 1, f"expected one cell tagged {tag!r}, found cells {found}"
    return found[0]


def claim(executed: ExecutedNotebook, tag: str) -> str:
    """What the cell tagged ``tag`` printed or displayed, as text."""
    text = executed.text(tagged(executed, tag))
    assert text.strip(), f"the cell tagged {tag!r} showed nothing"
    return text


def numbers(pattern: str, text: str) -> tuple[float, ...]:
    """The numbers captured by ``pattern`` (groups written as NUMBER) in ``text``."""
    match = re.search(pattern, text)
    assert match, f"{pattern!r} not found in:\n{text}"
    return tuple(float(g) for g in match.groups())


# ---------------------------------------------------------------- every notebook


@pytest.mark.parametrize("path", NOTEBOOKS)
def test_notebook_has_the_course_structure(path: str) -> None:
    nb = nbformat.read(REPO / path, as_version=4)
    markdown = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    assert nb.cells[0].cell_type == "markdown" and nb.cells[0].source.startswith("# ")
    assert "After this notebook you can" in nb.cells[0].source, "learning objectives at the top"
    assert "**Try it.**" in markdown
    assert "## Check yourself" in markdown and "<details>" in markdown
    assert re.search(r"exercises/ps[1-4]/ps[1-4]\.ipynb", markdown), "points to a problem set"
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert len(cell.source.splitlines()) <= 20, f"long code cell:\n{cell.source}"


@pytest.mark.slow
@pytest.mark.parametrize("path", [pytest.param(p, marks=notebook_group(p)) for p in NOTEBOOKS])
def test_timeline_cells_show_one_figure(path: str, run_notebook: Runner) -> None:
    executed = run_notebook(path)
    folder = FIGURES / Path(path).stem
    folder.mkdir(parents=True, exist_ok=True)
    for index, cell in enumerate(executed.nb.cells):
        if not any(t.startswith("timeline-") for t in cell.metadata.get("tags", [])):
            continue
        images = [o.data["image/png"] for o in cell.outputs if "image/png" in o.get("data", {})]
        assert len(images) == 1, f"cell {index} shows {len(images)} figures instead of one"
        (folder / f"cell{index}.png").write_bytes(base64.b64decode(images[0]))


@pytest.mark.slow
@pytest.mark.parametrize("path", [pytest.param(p, marks=notebook_group(p)) for p in NOTEBOOKS])
def test_nothing_written_to_stderr(path: str, run_notebook: Runner) -> None:
    executed = run_notebook(path)
    noisy = [
        f"cell {i}: {o.text[:200]}"
        for i, c in enumerate(executed.nb.cells)
        for o in c.get("outputs", [])
        if o.output_type == "stream" and o.name == "stderr"
    ]
    assert not noisy, "\n".join(noisy)


# ---------------------------------------------------------------- 05 sequential vs concurrent


@pytest.mark.slow
@notebook_group(NB05)
def test_05_sequential_takes_the_sum_concurrent_the_max(run_notebook: Runner) -> None:
    ex = run_notebook(NB05)
    elapsed, total = numbers(rf"sequential: {NUMBER} s, the sum of the delays is {NUMBER} s",
                             claim(ex, "claim-sequential-elapsed"))
    assert elapsed == total == 6
    elapsed, longest = numbers(rf"concurrent: {NUMBER} s, the longest delay is {NUMBER} s",
                               claim(ex, "claim-concurrent-elapsed"))
    assert elapsed == longest == 3
    assert numbers(rf"at once: {NUMBER} s", claim(ex, "claim-staircase-elapsed")) == (6,)
    for tag in ("claim-gather-elapsed", "claim-group-elapsed"):
        assert numbers(rf"after {NUMBER} s", claim(ex, tag)) == (3,), tag


@pytest.mark.slow
@notebook_group(NB05)
def test_05_real_code_timed_with_the_loops_clock(run_notebook: Runner) -> None:
    in_a_row, at_once = numbers(rf"in a row: {NUMBER} s; at once: {NUMBER} s",
                                claim(run_notebook(NB05), "claim-real-time"))
    # two real 0.25 s sleeps: never shorter than the waits; overlapped, shorter than in a row
    assert in_a_row >= 0.5 - 0.001 and 0.25 - 0.001 <= at_once < in_a_row


@pytest.mark.slow
@notebook_group(NB05)
def test_05_gather_raises_at_once_or_returns_the_errors(run_notebook: Runner) -> None:
    ex = run_notebook(NB05)
    assert claim(ex, "claim-gather-raises").strip() == (
        "1.0 s: ConnectionError('notes.txt: connection reset'); maps.zip running: True")
    assert claim(ex, "claim-return-exceptions").splitlines() == [
        "'maps.zip (3 s)'", "ConnectionError('notes.txt: connection reset')", "'photo.jpg (2 s)'",
        "after 3.0 s"]


@pytest.mark.slow
@notebook_group(NB05)
def test_05_cancel_and_the_first_to_finish(run_notebook: Runner) -> None:
    ex = run_notebook(NB05)
    assert claim(ex, "claim-cancel-basic").strip() == "1.0 s: cancelled? True"
    assert claim(ex, "claim-wait-first").splitlines() == [
        "notes.txt (1 s) after 1.0 s",
        "{\"download('maps.zip', 3)\": 'cancelled', \"download('notes.txt', 1)\": 'done', "
        "\"download('photo.jpg', 2)\": 'cancelled'}"]
    assert claim(ex, "claim-wait-timeout").strip() == "None after 0.5 s"


@pytest.mark.slow
@notebook_group(NB05)
def test_05_semaphore_limits_to_two(run_notebook: Runner) -> None:
    text = claim(run_notebook(NB05), "claim-semaphore")
    assert numbers(rf"{NUMBER} downloads after {NUMBER} s", text) == (6, 3)
    assert numbers(rf"at most {NUMBER} downloads", text) == (2,)


@pytest.mark.slow
@notebook_group(NB05)
def test_05_a_task_starts_when_its_creator_awaits(run_notebook: Runner) -> None:
    lines = claim(run_notebook(NB05), "claim-task-starts-on-await").splitlines()
    assert lines == [
        "creator: task created; task done? False",
        "creator: more work without await",
        "worker: started",
        "creator: back after my first await",
        "worker: finished",
    ]


@pytest.mark.slow
@notebook_group(NB05)
def test_05_as_completed_yields_by_finishing_time(run_notebook: Runner) -> None:
    lines = claim(run_notebook(NB05), "claim-as-completed-order").splitlines()
    assert lines == ["1.0 s: notes.txt (1 s)", "2.0 s: photo.jpg (2 s)", "3.0 s: maps.zip (3 s)"]


@pytest.mark.slow
@notebook_group(NB05)
def test_05_a_thousand_sleeps_end_at_ten_seconds(run_notebook: Runner) -> None:
    text = claim(run_notebook(NB05), "claim-scale")
    assert numbers(rf"{NUMBER} tasks waiting at once", text) == (1000,)
    assert numbers(rf"virtual elapsed: {NUMBER} s", text) == (10,)


# ---------------------------------------------------------------- 06 pitfalls


@pytest.mark.slow
@notebook_group(NB06)
def test_06_forgotten_await_gives_a_coroutine_and_a_named_finding(run_notebook: Runner) -> None:
    ex = run_notebook(NB06)
    assert re.match(r"\[<coroutine object quote at 0x[0-9a-f]+>, 4\.0\]",
                    claim(ex, "claim-forgotten-result"))
    message = claim(ex, "claim-forgotten-message")
    expected = "the coroutine `quote` created at line 7 (in `basket_total`) was never awaited"
    assert expected in message


@pytest.mark.slow
@notebook_group(NB06)
def test_06_blocking_sleep_takes_the_sum_and_the_fixes_the_max(run_notebook: Runner) -> None:
    ex = run_notebook(NB06)
    elapsed, total = numbers(rf"with time.sleep: {NUMBER} s \(sum of the delays: {NUMBER} s\)",
                             claim(ex, "claim-blocking-elapsed"))
    assert elapsed == total == 4.5
    message = claim(ex, "claim-blocking-message")
    assert "blocked 4.5 s in total by 3 calls of `time.sleep` in `sleepy_download`" in message
    elapsed, longest = numbers(rf"with asyncio.sleep: {NUMBER} s \(longest delay: {NUMBER} s\)",
                               claim(ex, "claim-polite-elapsed"))
    assert elapsed == longest == 2
    elapsed, threads = numbers(rf"with asyncio.to_thread: {NUMBER} s; {NUMBER} threads busy",
                               claim(ex, "claim-thread-elapsed"))
    assert (elapsed, threads) == (2, 3)


@pytest.mark.slow
@notebook_group(NB06)
def test_06_twenty_thread_jobs_take_the_rounds_of_the_fixed_pool(run_notebook: Runner) -> None:
    text = claim(run_notebook(NB06), "claim-thread-pool")
    elapsed, workers = numbers(
        rf"20 jobs of 1 s through asyncio.to_thread: {NUMBER} s with a pool of {NUMBER} threads",
        text)
    assert workers == 8  # fixed, whatever the machine: not min(32, os.cpu_count() + 4)
    assert elapsed == math.ceil(20 / workers) == 3


@pytest.mark.slow
@notebook_group(NB06)
def test_06_requests_blocks_and_httpx_overlaps(run_notebook: Runner) -> None:
    ex = run_notebook(NB06)
    pattern = rf"{NUMBER} s for {NUMBER} requests of {NUMBER} s each"
    blocking, n, delay = numbers(pattern, claim(ex, "claim-http-blocking-elapsed"))
    overlapped, n_async, _delay = numbers(pattern, claim(ex, "claim-http-async-elapsed"))
    assert n == n_async == 5
    # The server sleeps `delay` per request, so one at a time can never beat n * delay; real time,
    # so only bounds that a slow machine cannot break.
    assert blocking >= n * delay - 0.01
    assert delay - 0.01 <= overlapped < blocking
    assert "blocking network call `requests.get` in `get_blocking`" in claim(
        ex, "claim-http-message"
    )


@pytest.mark.slow
@notebook_group(NB06)
def test_06_a_forgotten_await_on_sleep_does_not_pause(run_notebook: Runner) -> None:
    ex = run_notebook(NB06)
    text = claim(ex, "claim-sleep-not-awaited")
    (took,) = numbers(rf"took {NUMBER} s;", text)
    assert took < 0.5, "two seconds of sleeps that never happened"
    assert text.rstrip().endswith("RuntimeWarning: coroutine 'sleep' was never awaited")
    text = claim(ex, "claim-sleep-not-awaited-detector")
    assert "virtual elapsed: 0.0 s" in text
    for line in (7, 9):
        assert f"the coroutine `sleep` created at line {line} (in `impatient`)" in text


@pytest.mark.slow
@notebook_group(NB06)
def test_06_aiohttp_overlaps_like_httpx(run_notebook: Runner) -> None:
    ex = run_notebook(NB06)
    pattern = rf"{NUMBER} s for {NUMBER} requests of {NUMBER} s each"
    blocking, _, _ = numbers(pattern, claim(ex, "claim-http-blocking-elapsed"))
    text = claim(ex, "claim-http-aiohttp")
    overlapped, n, delay = numbers(rf"aiohttp: {pattern}", text)
    assert n == 5 and delay - 0.01 <= overlapped < blocking
    assert text.rstrip().endswith("{'path': '/item/4'}")


@pytest.mark.slow
@notebook_group(NB06)
def test_06_threads_compute_one_at_a_time_processes_elsewhere(run_notebook: Runner) -> None:
    ex = run_notebook(NB06)
    pattern = rf"2 sums in {NUMBER} s, this process computing for {NUMBER} s"
    wall, cpu = numbers(pattern, claim(ex, "claim-cpu-threads"))
    # the GIL: Python code in two threads never uses more than one CPU at a time
    assert cpu > 0.01 and cpu <= wall * 1.1 + 0.02
    text = claim(ex, "claim-cpu-processes")
    _, cpu = numbers(pattern, text)
    assert cpu < 0.1, "the work happened in the workers, not in the notebook's process"
    assert text.rstrip().endswith("the workers are other processes: True")


@pytest.mark.slow
@notebook_group(NB06)
def test_06_lost_tasks_and_kept_ones(run_notebook: Runner) -> None:
    ex = run_notebook(NB06)
    lines = claim(ex, "claim-lost-tasks").splitlines()
    assert lines[0] == "['home']"
    assert [line.split("`")[1] for line in lines[1:]] == [
        "save_click([], 'shop', 2.0)", "save_click([], 'about', 1.5)"]
    assert all("was still running when `handle_clicks` finished" in line for line in lines[1:])
    assert claim(ex, "claim-task-collected").strip() == "['Task was destroyed but it is pending!']"
    assert claim(ex, "claim-kept-tasks").strip() == (
        "['home', 'about', 'shop'] after 2.0 s; findings: []")


@pytest.mark.slow
@notebook_group(NB06)
def test_06_cleanup_in_finally_and_cancellation_not_swallowed(run_notebook: Runner) -> None:
    ex = run_notebook(NB06)
    assert claim(ex, "claim-cleanup-skipped").strip() == (
        "cancelled: True; still busy: {'video.mp4'}")
    assert claim(ex, "claim-cleanup-finally").strip() == "cancelled: True; still busy: set()"
    assert claim(ex, "claim-cancel-swallowed").strip() == "cancelled: False; still busy: set()"


# ---------------------------------------------------------------- 07 asyncio in Jupyter


@pytest.mark.slow
@notebook_group(NB07)
def test_07_a_cell_runs_on_the_kernels_loop(run_notebook: Runner) -> None:
    assert "running=True" in claim(run_notebook(NB07), "claim-running-loop")


@pytest.mark.slow
@notebook_group(NB07)
def test_07_asyncio_run_fails_until_nest_asyncio(run_notebook: Runner) -> None:
    ex = run_notebook(NB07)
    before = tagged(ex, "claim-asyncio-run-error")
    after = tagged(ex, "claim-nest-asyncio")
    assert before < after
    assert ex.text(before).strip() == (
        "RuntimeError: asyncio.run() cannot be called from a running event loop"
    )
    assert ex.text(after).strip() == "'ping-pong'"
    assert claim(ex, "claim-nest-run-until-complete").strip() == "'ping-pong'"
    assert claim(ex, "claim-nest-task-class").strip().endswith("True")
    assert claim(ex, "claim-after-nest").strip() == "ping-pong 0.05"


@pytest.mark.slow
@notebook_group(NB07)
def test_07_same_code_in_a_script_and_a_notebook(run_notebook: Runner) -> None:
    ex = run_notebook(NB07)
    assert claim(ex, "claim-entry-both").strip() == "notebook: ping-pong; script: ping-pong"
    assert claim(ex, "claim-run-virtual-both").splitlines() == [
        "in the cell: ping-pong after 0.05 s",
        "without a loop: ping-pong after 0.05 s",
    ]


# ---------------------------------------------------------------- 08 beyond


@pytest.mark.slow
@notebook_group(NB08)
def test_08_a_ten_second_job_is_cancelled_at_two_and_a_half(run_notebook: Runner) -> None:
    ex = run_notebook(NB08)
    assert claim(ex, "claim-cancel-at").splitlines() == [
        "0.0 s: job starts",
        "2.5 s: job cancelled",
        "2.5 s: job cleans up",
        "2.5 s: the job was cancelled",
        "elapsed: 2.5 s; job state: cancelled",
    ]
    for tag in ("claim-timeout", "claim-wait-for"):
        assert claim(ex, tag).splitlines()[-2:] == [
            "2.5 s: job cleans up",
            "2.5 s: gave up (TimeoutError)",
        ], tag


@pytest.mark.slow
@notebook_group(NB08)
def test_08_cancel_only_schedules_and_cancelled_error_is_a_base_exception(
        run_notebook: Runner) -> None:
    ex = run_notebook(NB08)
    assert claim(ex, "claim-cancel-timing").splitlines() == [
        "started: starts",
        "cancel() returned; done? False",  # nothing happened yet
        "started: finally",  # at the task's next turn
        "one turn later; done? True",
        "never: cancelled? True",  # and "never: starts" never appeared
    ]
    assert claim(ex, "claim-cancelled-error-base").splitlines() == [
        "an Exception? False", "a BaseException? True"]


@pytest.mark.slow
@notebook_group(NB08)
def test_08_queue_with_sentinels_and_with_join(run_notebook: Runner) -> None:
    ex = run_notebook(NB08)
    text = claim(ex, "claim-queue")
    assert "'Ana': ['order 0', 'order 2', 'order 4'], 'Ben': ['order 1', 'order 3']" in text
    assert numbers(rf"after {NUMBER} s", text) == (6.5,)
    assert claim(ex, "claim-queue-join").splitlines() == [
        "1.0 s: flyer on printer 1", "2.0 s: card on printer 1", "3.0 s: poster on printer 0",
        "4.0 s: menu on printer 1", "after 4.0 s"]


@pytest.mark.slow
@notebook_group(NB08)
def test_08_async_iteration_and_context_managers(run_notebook: Runner) -> None:
    ex = run_notebook(NB08)
    assert claim(ex, "claim-async-iterator").splitlines() == ["1.0 s: 3", "2.0 s: 2", "3.0 s: 1"]
    assert "TypeError: 'Countdown' object is not iterable" in claim(ex, "claim-plain-for-fails")
    assert claim(ex, "claim-async-generator").splitlines()[-1] == "1.5 s: 21.0 °C"
    assert claim(ex, "claim-async-context-manager").splitlines() == [
        "0.2 s: connected to db.example",
        "0.2 s: using the connection to db.example",
        "1.3 s: closed db.example",
        "1.3",
    ]


@pytest.mark.slow
@notebook_group(NB08)
def test_08_a_failing_child_cancels_its_siblings(run_notebook: Runner) -> None:
    ex = run_notebook(NB08)
    group = "ExceptionGroup('unhandled errors in a TaskGroup', [ValueError('sensor 2 is offline')])"
    assert group in claim(ex, "claim-taskgroup-raises")
    text = claim(ex, "claim-taskgroup-except-star")
    assert text.startswith("['sensor 2 is offline'] after 1.0 s")
    assert ("'read_sensor(1, 5)': 'cancelled', 'read_sensor(2, 1)': 'failed', "
            "'read_sensor(3, 5)': 'cancelled'") in text
