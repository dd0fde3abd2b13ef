"""Lectures 00-04 teach what their outputs show: each claim is checked in the executed notebook.

Cells are found by a ``claim-...`` tag in their metadata, so prose and code may change freely as
long as the tagged cell still shows the claim. Every notebook is executed once per session by the
``run_notebook`` fixture (shared with ``test_notebooks.py``). The figures of the timeline cells
are saved to ``test-artifacts/figures/<notebook>/cell<N>.png`` for a human to look at.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.nbrun import REPO, ExecutedNotebook, notebook_group, relative

NB00 = "notebooks/00_welcome.ipynb"
NB01 = "notebooks/01_coroutine_objects.ipynb"
NB02 = "notebooks/02_awaitables.ipynb"
NB03 = "notebooks/03_under_the_hood.ipynb"
NB04 = "notebooks/04_chaining.ipynb"
LECTURES = [NB01, NB02, NB03, NB04]
FIGURES = REPO / "test-artifacts" / "figures"
PLOT_CALL = re.compile(r"(\.plot\(|plot_timeline\(|plot_comparison\()")
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")

Runner = Callable[[str], ExecutedNotebook]

pytestmark = pytest.mark.slow


def executed(run_notebook: Runner, path: str) -> ExecutedNotebook:
    """The executed notebook, failing early (and clearly) if it did not run cleanly."""
    result = run_notebook(path)
    assert result.ok, f"{path} did not run cleanly:\n{result.report()}"
    return result


def tagged(nb: ExecutedNotebook, tag: str) -> int:
    """Index of the one cell carrying ``tag``."""
    found = [i for i, c in enumerate(nb.nb.cells) if tag in c.metadata.get("tags", [])]
    assert len(found) == 1, f"{relative(nb.path)}: expected one cell tagged {tag!r}, got {found}"
    return found[0]


def text(nb: ExecutedNotebook, tag: str) -> str:
    """What the cell tagged ``tag`` printed or displayed as text."""
    return nb.text(tagged(nb, tag))


def pngs(nb: ExecutedNotebook, index: int) -> list[bytes]:
    outputs = nb.nb.cells[index].get("outputs", [])
    return [base64.b64decode(o.data["image/png"]) for o in outputs
            if o.output_type in ("execute_result", "display_data") and "image/png" in o.data]


def traceback(nb: ExecutedNotebook, tag: str) -> str:
    errors = [o for o in nb.nb.cells[tagged(nb, tag)].outputs if o.output_type == "error"]
    assert errors, f"the cell tagged {tag!r} raised nothing"
    return _ANSI.sub("", "\n".join(errors[0].traceback))


def seconds(pattern: str, said: str) -> list[float]:
    """The numbers ``pattern`` (a regex with one group) captures in ``said``."""
    found = [float(x) for x in re.findall(pattern, said)]
    assert found, f"no match for {pattern!r} in {said!r}"
    return found


# ------------------------------------------------------------------ every lecture notebook
@pytest.mark.parametrize(
    "path", [pytest.param(p, id=p, marks=notebook_group(p)) for p in [NB00, *LECTURES]]
)
def test_timeline_cells_show_their_figure_once(run_notebook: Runner, path: str) -> None:
    """A cell that draws a timeline displays exactly one PNG; no other cell displays one.

    01 is about coroutine objects before any event loop runs them: it draws no timeline.
    """
    nb = executed(run_notebook, path)
    folder = FIGURES / Path(path).stem
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("cell*.png"):
        old.unlink()
    drawn = 0
    for index, cell in enumerate(nb.nb.cells):
        if cell.cell_type != "code":
            continue
        images = pngs(nb, index)
        if PLOT_CALL.search(cell.source):
            assert len(images) == 1, f"{path} cell {index} shows {len(images)} figures, not 1"
            (folder / f"cell{index}.png").write_bytes(images[0])
            drawn += 1
        else:
            assert not images, f"{path} cell {index} shows a figure but draws no timeline"
    assert drawn or path == NB01, f"{path} shows no timeline at all"


@pytest.mark.parametrize(
    "path", [pytest.param(p, id=p, marks=notebook_group(p)) for p in [NB00, *LECTURES]]
)
def test_nothing_reaches_stderr(run_notebook: Runner, path: str) -> None:
    nb = executed(run_notebook, path)
    noisy = [i for i, c in enumerate(nb.nb.cells) if c.cell_type == "code"
             for o in c.outputs if o.output_type == "stream" and o.name == "stderr"]
    assert not noisy, f"{path}: cells {noisy} wrote to stderr"


@pytest.mark.parametrize(
    ("path", "assignment"),
    [pytest.param(p, a, id=p, marks=notebook_group(p))
     for p, a in [(NB01, "ps1"), (NB02, "ps1"), (NB03, "ps3"), (NB04, "ps2")]],
)
def test_lecture_has_its_parts(run_notebook: Runner, path: str, assignment: str) -> None:
    """Title, objectives, Try-it prompts, a quiz with hidden answers, a practice pointer."""
    cells = executed(run_notebook, path).nb.cells
    prose = "\n".join(c.source for c in cells if c.cell_type == "markdown")
    assert cells[0].source.startswith("# "), "the first cell is the title"
    assert "After this notebook you can" in cells[0].source
    assert prose.count("**Try it.**") >= 2
    assert "## Check yourself" in prose and "<details>" in prose and "</details>" in prose
    assert f"exercises/{assignment}/{assignment}.ipynb" in prose, "points to the learner's copy"


# ------------------------------------------------------------------ 00 welcome
@notebook_group(NB00)
def test_welcome_timeline_overlaps_the_waits(run_notebook: Runner) -> None:
    nb = executed(run_notebook, NB00)
    said = text(nb, "claim-welcome-timeline")
    assert seconds(r"after ([\d.]+) s", said) == [2.0], "gather of 1 s and 2 s waits takes 2 s"
    assert len(pngs(nb, tagged(nb, "claim-welcome-timeline"))) == 1


# ------------------------------------------------------------------ 01 coroutine objects
@notebook_group(NB01)
def test_calling_a_coroutine_function_does_not_run_it(run_notebook: Runner) -> None:
    nb = executed(run_notebook, NB01)
    said = text(nb, "claim-call-does-not-run")
    assert "<coroutine object brew at" in said
    assert "brewing" not in said, "the body's print must not appear before the await"
    assert text(nb, "claim-types").splitlines() == [
        "<class 'function'> <class 'coroutine'>", "True True", "False False"]


@notebook_group(NB01)
def test_await_runs_the_body_once(run_notebook: Runner) -> None:
    nb = executed(run_notebook, NB01)
    assert text(nb, "claim-await-runs") == "brewing green...\n'a cup of green'"
    assert text(nb, "claim-await-twice") == (
        "RuntimeError: cannot reuse already awaited coroutine")
    assert text(nb, "claim-run-virtual").splitlines() == [
        "brewing oolong...", "a cup of oolong after 0.1 virtual seconds"]


@notebook_group(NB01)
def test_unused_coroutines_close_or_warn(run_notebook: Runner) -> None:
    nb = executed(run_notebook, NB01)
    assert text(nb, "claim-close") == "'CORO_CLOSED'"
    assert text(nb, "claim-never-awaited-warning") == (
        "RuntimeWarning: coroutine 'brew' was never awaited\n")
    detector = text(nb, "claim-detector")
    assert "the coroutine `brew` created at line 2 (in `tea_party`) was never awaited" in detector


@notebook_group(NB01)
def test_legacy_syntax_is_gone_and_await_rejects_generators(run_notebook: Runner) -> None:
    nb = executed(run_notebook, NB01)
    assert text(nb, "claim-legacy-removed").endswith("asyncio.coroutine exists? False\n")
    assert text(nb, "claim-generator-not-awaitable") == (
        "TypeError: object generator can't be used in 'await' expression")
    # the old style took the same mix-up and failed only inside the running task
    assert text(nb, "claim-old-style-bad-yield") == "RuntimeError: Task got bad yield: 'green'\n"


# ------------------------------------------------------------------ 02 awaitables
def awaitable_table(said: str) -> dict[str, str]:
    """``{"Task": "True", ...}`` from lines such as ``Task      awaitable: True``."""
    pairs = (line.split(" awaitable: ") for line in said.splitlines())
    return {kind.strip(): answer for kind, answer in pairs}


@notebook_group(NB02)
def test_the_three_kinds_are_awaitable_and_others_are_not(run_notebook: Runner) -> None:
    nb = executed(run_notebook, NB02)
    assert awaitable_table(text(nb, "claim-three-kinds")) == {
        "coroutine": "True", "Task": "True", "Future": "True"}
    assert awaitable_table(text(nb, "claim-not-awaitable")) == {
        "int": "False", "str": "False", "list": "False", "generator": "False", "function": "False"}


@notebook_group(NB02)
def test_custom_awaitable_yields_to_the_loop(run_notebook: Runner) -> None:
    nb = executed(run_notebook, NB02)
    assert text(nb, "claim-countdown").splitlines() == [
        "solo: 3", "solo: 2", "solo: 1", "'solo: liftoff'"]
    assert text(nb, "claim-countdown-turns").splitlines() == [
        "A: 3", "B: 2", "A: 2", "B: 1", "A: 1", "['A: liftoff', 'B: liftoff']"]


@notebook_group(NB02)
def test_futures_and_our_own_sleep(run_notebook: Runner) -> None:
    nb = executed(run_notebook, NB02)
    said = text(nb, "claim-future-callback")
    assert "done before await? False" in said and "done after await?  True -> ready" in said
    assert seconds(r"after ([\d.]+) s", text(nb, "claim-nap-elapsed")) == [2.5]
    naps = text(nb, "claim-naps-timeline")
    assert seconds(r"after ([\d.]+) s", naps) == [max(1.0, 2.5, 1.5)], "naps overlap: the max"
    assert "['short', 'long', 'medium']" in naps


@notebook_group(NB02)
def test_await_delegates_and_a_nap_can_be_cancelled_safely(run_notebook: Runner) -> None:
    nb = executed(run_notebook, NB02)
    assert text(nb, "claim-delay") == "tea after 1.5 s\n"
    cancelled, loop_error = text(nb, "claim-nap-cancelled").splitlines()
    assert cancelled == "sleeper cancelled: True"
    # "Future.set_result(None)" on 3.11, "Future.set_result()" on 3.13
    assert loop_error.startswith("Exception in callback Future.set_result(")
    assert loop_error.endswith("InvalidStateError('invalid state')"), "the stale timer fired"
    assert text(nb, "claim-safe-nap") == "sleeper cancelled: True | reported by the loop: []\n"


@notebook_group(NB02)
def test_other_tasks_run_while_an_awaited_coroutine_waits(run_notebook: Runner) -> None:
    nb = executed(run_notebook, NB02)
    assert text(nb, "claim-others-run-meanwhile").splitlines() == [
        "tick 0", "tick 1", "tick 2", "steeped 0.1 s", "goes on"]


@notebook_group(NB02)
def test_what_await_does_with_each_kind(run_notebook: Runner) -> None:
    nb = executed(run_notebook, NB02)
    assert text(nb, "claim-task-runs-alone").splitlines() == [
        "announcing hello", "task done? True"]
    assert text(nb, "claim-await-again").splitlines() == ["hello hello", "ready ready"]
    said = text(nb, "claim-coroutines-vs-tasks")
    assert seconds(r"coroutines: ([\d.]+) s", said) == [1.0 + 1.0], "coroutines: the sum"
    assert seconds(r"tasks: ([\d.]+) s", said) == [1.0], "tasks: the max"


# ------------------------------------------------------------------ 03 under the hood
@notebook_group(NB03)
def test_send_and_stopiteration(run_notebook: Runner) -> None:
    nb = executed(run_notebook, NB03)
    assert text(nb, "claim-stopiteration-value") == "finished, returned 5\n"
    assert text(nb, "claim-send-steps") == "kettle on\ntea in the pot\n"
    assert text(nb, "claim-stop-uncaught") == "StopIteration: tea is ready"


@notebook_group(NB03)
def test_throw_resumes_with_an_error_and_delivers_cancellation(run_notebook: Runner) -> None:
    nb = executed(run_notebook, NB03)
    assert text(nb, "claim-throw").splitlines() == [
        "heating", "kettle switched off", "throw raised: power cut"]
    assert text(nb, "claim-task-throws").splitlines() == [
        "the await raised CancelledError", "task cancelled? True"]


@notebook_group(NB03)
def test_round_robin_and_asyncio_take_the_same_turns(run_notebook: Runner) -> None:
    nb = executed(run_notebook, NB03)
    expected = ["Ana: chore 1", "Ben: chore 1", "Cy: chore 1", "Ana: chore 2", "Ben: chore 2",
                "Ana: chore 3"]
    assert text(nb, "claim-round-robin").splitlines() == expected
    assert text(nb, "claim-asyncio-turns").splitlines() == expected
    assert text(nb, "claim-round-robin-coroutines").splitlines() == [
        "Ana: step 1", "Ben: step 1", "Ana: step 2", "Ben: step 2"]


@notebook_group(NB03)
def test_a_task_that_never_awaits_starves_the_others(run_notebook: Runner) -> None:
    nb = executed(run_notebook, NB03)
    fair = seconds(r"first ran at ([\d.]+) s", text(nb, "claim-fair-timeline"))
    hog = seconds(r"first ran at ([\d.]+) s", text(nb, "claim-hog-timeline"))
    assert fair == [0.0, 0.25, 0.5], "taking turns: each task starts after one 0.25 s slice"
    assert hog == [0.0, 0.75, 1.0], "B and C wait until A's three slices are done"
    findings = text(nb, "claim-hog-findings")
    assert "blocked 0.75 s in total by 3 calls of `time.sleep` in `greedy`" in findings


# ------------------------------------------------------------------ 04 chaining
@notebook_group(NB04)
def test_values_travel_up_a_chain_in_one_task(run_notebook: Runner) -> None:
    nb = executed(run_notebook, NB04)
    assert text(nb, "claim-chain-result") == "'oslo: 3.5 °C' after 1.0 s\n"
    lines = text(nb, "claim-chain-one-task").splitlines()
    assert lines[0] == "1 task: report('oslo')"
    assert [line.split()[-2].rstrip(":") for line in lines[1:]] == [
        "fetch_reading", "to_celsius", "report"], "the waits come innermost first, in order"
    assert text(nb, "claim-chain-calls").splitlines() == [
        "  to_celsius('oslo'): 0.0 to 0.75 s", "    fetch_reading('oslo'): 0.0 to 0.5 s"]


@notebook_group(NB04)
def test_exceptions_travel_up_the_chain(run_notebook: Runner) -> None:
    nb = executed(run_notebook, NB04)
    assert text(nb, "claim-chain-uncaught") == (
        "StationOffline: station 'atlantis' did not answer")
    frames = traceback(nb, "claim-chain-uncaught")
    where = [frames.index(f", in {name}(") for name in ("report", "to_celsius", "fetch_reading")]
    assert where == sorted(where), "the traceback lists the chain from the outside in"
    caught = text(nb, "claim-chain-caught")
    assert "atlantis: no data (station 'atlantis' did not answer)" in caught
    assert seconds(r"after ([\d.]+) s", caught) == [0.5], "the chain stops at the failed call"


@notebook_group(NB04)
def test_sequential_pipeline_takes_the_sum(run_notebook: Runner) -> None:
    nb = executed(run_notebook, NB04)
    said = text(nb, "claim-pipeline-elapsed")
    assert said.splitlines()[:4] == [
        "oslo: 3.5 °C", "lima: 19.0 °C", "atlantis: no data (station 'atlantis' did not answer)",
        "cairo: 30.0 °C"]
    chain, offline = 0.5 + 0.25 + 0.25, 0.5
    assert seconds(r"elapsed: ([\d.]+) s", said) == [3 * chain + offline]
    quick = text(nb, "claim-pipeline-comparison")
    assert "same lines: True" in quick
    assert seconds(r"elapsed: ([\d.]+) s", quick) == [chain], "in tasks: the longest chain"
    assert len(pngs(nb, tagged(nb, "claim-pipeline-timeline"))) == 1
