"""Virtual time never hangs and never lies: properties checked on generated programs.

Programs (see ``tests/support/programs.py``) are built from sleeps, ``to_thread`` and a pool of
the program's own with ``time.sleep`` in the thread, a thread resolving a future with
``call_soon_threadsafe``, ``gather``/``TaskGroup``/``wait``/``as_completed``,
``wait_for``/``timeout``, ``Lock``/``Event``/``Semaphore``/``Queue``, cancellation, blocking
calls on the loop (``time.sleep``, ``Future.result`` and ``Thread.join`` waiting for a thread)
and, for the first property, shapes that can never finish (a wait nothing
ends, a busy loop, a sleep past the limit, a pool whose only worker waits for a job queued
behind it, the loop's thread waiting for such a pool).

- *Never hangs*: every run returns, raises the program's own error, or ends with
  ``DeadlockError`` / ``VirtualTimeLimit`` / ``BusyLoopError``; a worker subprocess with a
  timeout is the watchdog, so a hang fails the test instead of freezing it.
- *Never lies*: the same programs on asyncio's own loop in real time (delays scaled to
  ``REAL_UNIT`` seconds, run side by side in threads) give the same result or exception and
  the same log order; only orders are compared, never times (see the module for what is not
  compared, by design).

Programs run in batches, one subprocess per batch, so start-up is paid once per batch.
Hypothesis is derandomized and keeps no database: CI sees the same programs every time.
``ASYNCOURSE_HYPOTHESIS_EXAMPLES=500`` runs about 500 programs per property instead of the
default (see CONTRIBUTING.md).
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support import programs
from tests.support.paths import REPO

NEVER_HANG_BATCH = 40
DIFFERENTIAL_BATCH = 40
WANTED = int(os.environ.get("ASYNCOURSE_HYPOTHESIS_EXAMPLES", "0"))
#: Real seconds a worker may take for a batch: a generous watchdog, not a measurement.
WATCHDOG = 120.0
PROGRAM_ERRORS = {"Boom", "TimeoutError", "ExceptionGroup", "CancelledError"}
RUN_ERRORS = {"DeadlockError", "VirtualTimeLimit", "BusyLoopError"}


def batches(default: int, size: int) -> int:
    return max(1, math.ceil(WANTED / size)) if WANTED else default


def profile(examples: int) -> settings:
    return settings(max_examples=examples, derandomize=True, database=None, deadline=None,
                    suppress_health_check=list(HealthCheck), print_blob=False)


# ---------------------------------------------------------------- the generator
Strategy = st.SearchStrategy[Any]


def delay(top: int = 24) -> Strategy:
    """Units: apart enough that most programs have no two deadlines closer than SEPARATION."""
    return st.integers(1, top)


def leaf(stuck: bool) -> Strategy:
    """A step with nothing inside it. Threads only sleep: thread *work* takes no virtual time
    but real time, so it could not be compared (the module says what else is not)."""
    index = st.integers(0, 1)
    options = [
        st.tuples(st.just("sleep"), delay()),
        st.tuples(st.just("sleep"), delay()),
        st.tuples(st.just("thread"), delay()),
        st.tuples(st.just("pool"), delay()),
        st.tuples(st.sampled_from(["block", "result", "join"]), delay(8)),
        st.tuples(st.just("cst"), delay()),
        st.tuples(st.just("fan"), st.sampled_from(["pool", "thread"]), st.integers(2, 10),
                  delay()),
        st.tuples(st.sampled_from(["set", "set", "waitev", "put", "get"]), index),
        st.tuples(st.just("raise")),
    ]
    if stuck:
        options.append(st.tuples(st.sampled_from(programs.STUCK)))
    return st.one_of(options).map(list)


def concurrent(depth: int, stuck: bool, least: int = 1) -> Strategy:
    """Tasks side by side: ``gather``, ``TaskGroup``, ``wait``, ``as_completed``."""
    some = st.lists(block(depth - 1, stuck), min_size=least, max_size=3)
    return st.one_of(
        st.tuples(st.just("gather"), some, st.booleans()),
        st.tuples(st.just("group"), some),
        st.tuples(st.just("wait"), some, st.sampled_from(["first", "all"])),
        st.tuples(st.just("as_completed"), some),
    ).map(list)


def step(depth: int, stuck: bool) -> Strategy:
    if depth == 0:
        return leaf(stuck)
    inner = block(depth - 1, stuck)
    nests = [
        st.tuples(st.sampled_from(["wait_for", "timeout"]), inner, delay(48)),
        st.tuples(st.sampled_from(["lock", "sem"]), st.integers(0, 1), inner),
        st.tuples(st.just("cancel"), inner, delay()),
    ]
    return st.one_of([leaf(stuck), concurrent(depth, stuck), *(n.map(list) for n in nests)])


def block(depth: int, stuck: bool) -> Strategy:
    return st.lists(step(depth, stuck), min_size=1, max_size=3)


def _program(stuck: bool) -> Strategy:
    main = st.tuples(concurrent(2, stuck, least=2), block(1, stuck)).map(
        lambda parts: [parts[0], *parts[1]])
    return st.fixed_dictionaries({"pool": st.integers(1, 3), "main": main})


_PROGRAMS = {stuck: _program(stuck) for stuck in (False, True)}


@st.composite
def program(draw: st.DrawFn, stuck: bool) -> Any:
    """A main that starts 2-3 tasks side by side, then does a few more steps (a composite:
    hypothesis describes it by this name, not by a 30 kB repr of the nested strategies)."""
    return draw(_PROGRAMS[stuck])


def programs_batch(size: int, stuck: bool) -> Strategy:
    return st.lists(program(stuck), min_size=size, max_size=size, unique_by=json.dumps)


# ---------------------------------------------------------------- the harness
def run_batch(mode: str, batch: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Outcomes of ``batch`` from a worker subprocess; a hang is a failure naming the program."""
    text = json.dumps({"mode": mode, "programs": batch})
    try:
        done = subprocess.run([sys.executable, "-m", "tests.support.programs"], input=text,
                              capture_output=True, text=True, cwd=REPO, timeout=WATCHDOG)
    except subprocess.TimeoutExpired as hung:
        out = hung.stdout or b""
        lines = (out.decode() if isinstance(out, bytes) else out).splitlines()
        pytest.fail(f"the worker hung after {len(lines)} programs, on this one:\n"
                    f"{json.dumps(batch[len(lines)])}")
    assert done.returncode == 0, done.stderr[-3000:]
    outcomes = [json.loads(line) for line in done.stdout.splitlines()]
    assert len(outcomes) == len(batch), done.stderr[-3000:]
    return outcomes


@pytest.mark.slow
@profile(batches(5, NEVER_HANG_BATCH))
@given(programs_batch(NEVER_HANG_BATCH, stuck=True))
def test_virtual_time_never_hangs(batch: list[dict[str, Any]]) -> None:
    for prog, outcome in zip(batch, run_batch("virtual", batch), strict=True):
        shown = json.dumps(prog)
        assert "internal" not in outcome, f"{outcome['internal']} for {shown}"
        if "run_error" in outcome:
            assert outcome["run_error"] in RUN_ERRORS, shown
            assert ": " in outcome["message"], shown  # a sentence that says why
        elif "error" in outcome:
            assert outcome["error"][0] in PROGRAM_ERRORS, f"{outcome['error']} for {shown}"
        else:
            assert outcome["result"] == "main", shown


@pytest.mark.slow
@profile(batches(2, DIFFERENTIAL_BATCH))
@given(programs_batch(DIFFERENTIAL_BATCH, stuck=False))
def test_virtual_time_agrees_with_real_asyncio(batch: list[dict[str, Any]]) -> None:
    outcomes = run_batch("differential", batch)
    for prog, outcome in zip(batch, outcomes, strict=True):
        assert "internal" not in outcome, f"{outcome['internal']} for {json.dumps(prog)}"
        assert outcome["disagreement"] is None, (
            f"{outcome['disagreement']}\nprogram: {json.dumps(prog)}\n"
            f"virtual log: {list(zip(outcome['log'], outcome['times'], strict=True))}")
    compared = sum(o["compared"] for o in outcomes)
    assert compared >= len(batch) // 4, f"only {compared} of {len(batch)} programs compared"
