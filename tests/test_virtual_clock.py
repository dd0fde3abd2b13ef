"""The virtual-time loop: asyncio behaves as usual, only the clock jumps."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from asyncourse import (
    BusyLoopError,
    DeadlockError,
    VirtualEventLoop,
    VirtualTimeLimit,
    run_virtual,
)

delays = st.lists(st.integers(min_value=0, max_value=10_000).map(lambda ms: ms / 1000),
                  min_size=1, max_size=12)


async def pause(d: float) -> float:
    await asyncio.sleep(d)
    return d


@settings(max_examples=60, deadline=None)
@given(delays)
def test_gather_takes_the_longest_delay(ds: list[float]) -> None:
    async def main() -> list[float]:
        return await asyncio.gather(*(pause(d) for d in ds))

    run = run_virtual(main)
    assert run.result == ds
    assert run.elapsed == max(ds)


@settings(max_examples=60, deadline=None)
@given(delays)
def test_sequential_awaits_take_the_sum(ds: list[float]) -> None:
    async def main() -> None:
        for d in ds:
            await asyncio.sleep(d)

    assert run_virtual(main).elapsed == pytest.approx(sum(ds), abs=1e-9)


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 10_000).map(lambda ms: ms / 1000), st.integers(1, 10_000))
def test_wait_for_times_out_exactly_at_its_bound(bound: float, extra_ms: int) -> None:
    async def main() -> float:
        loop = asyncio.get_running_loop()
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(asyncio.sleep(bound + extra_ms / 1000), bound)
        return loop.time()

    assert run_virtual(main).result == bound


def test_timeout_taskgroup_and_call_later_keep_their_order() -> None:
    events: list[tuple[str, float]] = []

    async def main() -> None:
        loop = asyncio.get_running_loop()
        loop.call_later(1.5, lambda: events.append(("callback", loop.time())))
        async with asyncio.TaskGroup() as group:
            group.create_task(pause(2))
            group.create_task(pause(1))
        events.append(("group", loop.time()))
        try:
            async with asyncio.timeout(0.25):
                await asyncio.sleep(10)
        except TimeoutError:
            events.append(("timeout", loop.time()))

    run_virtual(main)
    assert events == [("callback", 1.5), ("group", 2.0), ("timeout", 2.25)]


def test_an_hour_of_sleeping_never_waits_for_real() -> None:
    """The loop only ever polls its real selector (timeout 0): no wall-clock waiting at all."""
    loop = VirtualEventLoop()
    real = loop._selector._real  # type: ignore[attr-defined]
    waits: list[float | None] = []
    poll = real.select
    real.select = lambda timeout=None: waits.append(timeout) or poll(timeout)
    async def main() -> None:
        await asyncio.gather(asyncio.sleep(3600), asyncio.sleep(60))

    try:
        loop.run_until_complete(main())
        assert loop.time() == 3600.0
    finally:
        loop.close()
    assert waits and set(waits) == {0}


def test_thread_work_takes_no_virtual_time_and_thread_sleeps_take_theirs() -> None:
    def crunch() -> int:
        return sum(range(200_000))

    async def main() -> list[object]:
        return await asyncio.gather(asyncio.to_thread(crunch), asyncio.to_thread(time.sleep, 2),
                                    asyncio.sleep(1))

    run = run_virtual(main)
    assert run.result[0] == sum(range(200_000))
    assert run.elapsed == 2.0
    assert run.findings == []


def test_blocking_sleep_on_the_loop_moves_the_clock_and_delays_timers() -> None:
    async def late_timer() -> float:
        loop = asyncio.get_running_loop()
        fired = loop.create_future()
        loop.call_later(0.5, fired.set_result, None)
        time.sleep(2)  # the loop cannot fire the 0.5 s timer while blocked
        await fired
        return loop.time()

    run = run_virtual(late_timer)
    assert run.result == 2.0
    assert [f.kind for f in run.findings] == ["blocking-call"]


def test_deadlock_is_an_error_that_names_the_stuck_task() -> None:
    async def stuck() -> None:
        await asyncio.Event().wait()

    with pytest.raises(DeadlockError, match=r"`stuck\(\)` \(awaiting Event.wait\(\)\)"):
        run_virtual(stuck)


def test_busy_loop_and_time_limit_end_with_errors() -> None:
    async def spin() -> None:
        while True:
            await asyncio.sleep(0)

    with pytest.raises(BusyLoopError, match="went round"):
        run_virtual(spin, max_steps=5_000)
    with pytest.raises(VirtualTimeLimit, match="after 10 virtual seconds"):
        run_virtual(asyncio.sleep, 11, limit=10)


def test_errors_propagate_or_are_kept() -> None:
    async def boom() -> None:
        await asyncio.sleep(1)
        raise ValueError("bad input")

    with pytest.raises(ValueError, match="bad input"):
        run_virtual(boom)
    run = run_virtual(boom, raise_errors=False)
    assert isinstance(run.error, ValueError) and run.elapsed == 1.0
    assert run.recording.task("boom").state == "failed"


def test_works_while_another_loop_runs_in_this_thread() -> None:
    async def outer() -> tuple[float, bool]:
        kernel_loop = asyncio.get_running_loop()
        run = run_virtual(pause, 30)
        return run.elapsed, asyncio.get_running_loop() is kernel_loop

    assert asyncio.run(outer()) == (30.0, True)


def test_rejects_plain_functions_with_a_reason() -> None:
    def not_async() -> int:
        return 1

    with pytest.raises(TypeError, match="not a coroutine function"):
        run_virtual(not_async)


def test_loop_repr_and_thread_markers_are_cleaned_up() -> None:
    loop = VirtualEventLoop()
    try:
        loop.run_until_complete(asyncio.sleep(5))
        assert repr(loop).startswith("<VirtualEventLoop time=5 ")
    finally:
        loop.close()
    run_virtual(asyncio.sleep, 1)
    assert time.sleep.__module__ == "time"
    assert threading.active_count() < 20
