"""The recorder: plain data that tests compare exactly."""

from __future__ import annotations

import asyncio
from contextlib import asynccontextmanager

from asyncourse import AwaitedCall, Interval, Recording, TaskRecord, run_virtual


async def fetch(name: str, delay: float) -> str:
    await asyncio.sleep(delay)
    return name


def test_sequential_awaits_are_intervals_of_one_task() -> None:
    async def one_by_one() -> list[str]:
        return [await fetch("a", 1), await fetch("b", 2)]

    run = run_virtual(one_by_one)
    assert run.recording == Recording(elapsed=3.0, tasks=[TaskRecord(
        label="one_by_one()", name="one_by_one", created=0.0, started=0.0, ended=3.0,
        state="done", intervals=[Interval("timer", 0.0, 1.0, "fetch: asyncio.sleep(1)"),
                                 Interval("timer", 1.0, 3.0, "fetch: asyncio.sleep(2)")],
        calls=[AwaitedCall("fetch('a', 1)", "fetch", 1, 0.0, 1.0),
               AwaitedCall("fetch('b', 2)", "fetch", 1, 1.0, 3.0)])])


def test_each_awaited_call_is_recorded_under_its_task_with_its_depth() -> None:
    async def station(name: str) -> str:
        return await fetch(name, 2)

    async def chain() -> list[str]:
        first = await fetch("a", 1)
        second = await station("b")
        return [first, second, await fetch("c", 0.5)]

    task = run_virtual(chain).recording.task("chain")
    assert task.calls == [
        AwaitedCall("fetch('a', 1)", "fetch", 1, 0.0, 1.0),
        AwaitedCall("station('b')", "station", 1, 1.0, 3.0),
        AwaitedCall("fetch('b', 2)", "fetch", 2, 1.0, 3.0),
        AwaitedCall("fetch('c', 0.5)", "fetch", 1, 3.0, 3.5),
    ]
    assert task.call_intervals(task.calls[1]) == [
        Interval("timer", 1.0, 3.0, "fetch: asyncio.sleep(2)")]
    assert task.intervals[1] == Interval("timer", 1.0, 3.0, "fetch: asyncio.sleep(2)"), (
        "a task's own intervals are as before")


def test_calls_skip_comprehensions_library_code_and_calls_that_never_wait() -> None:
    async def instant() -> int:
        return 1

    @asynccontextmanager
    async def session():  # type: ignore[no-untyped-def]
        await asyncio.sleep(0.5)  # contextlib's __aenter__ awaits this: not the learner's call
        yield "s"

    async def main() -> list[str]:
        await instant()
        async with session():
            pass
        return [await fetch(n, 1) for n in "xy"]  # a coroutine of its own before Python 3.12

    calls = run_virtual(main).recording.task("main").calls
    assert [(c.label, c.depth, c.start, c.end) for c in calls] == [
        ("fetch('x', 1)", 1, 0.5, 1.5), ("fetch('y', 1)", 1, 1.5, 2.5)]


def test_a_cancelled_tasks_call_ends_at_the_cancellation() -> None:
    async def main() -> None:
        slow = asyncio.create_task(fetch("slow", 10))
        await asyncio.sleep(2)
        slow.cancel()
        await asyncio.gather(slow, return_exceptions=True)

    async def fetch_twice() -> None:
        await fetch("a", 10)

    recording = run_virtual(main).recording
    assert recording.task("main").calls == []
    assert recording.task("fetch").calls == [], "a task's own coroutine is not a call"

    async def main2() -> None:
        slow = asyncio.create_task(fetch_twice())
        await asyncio.sleep(2)
        slow.cancel()
        await asyncio.gather(slow, return_exceptions=True)

    assert run_virtual(main2).recording.task("fetch_twice").calls == [
        AwaitedCall("fetch('a', 10)", "fetch", 1, 0.0, 2.0)]


def test_old_style_records_without_calls_still_work() -> None:
    """A TaskRecord built by hand with the fields it had before calls existed (ps2 does)."""
    bar = TaskRecord("a", "fetch", 0.0, 0.0, 1.0, "done", [Interval("timer", 0.0, 1.0)])
    assert bar.calls == [] and bar.time_in("timer") == 1.0
    assert Recording([bar], 1.0).max_concurrent() == 1


def test_gather_taskgroup_and_create_task_are_all_recorded() -> None:
    async def main() -> None:
        await asyncio.gather(fetch("g", 1))
        async with asyncio.TaskGroup() as group:
            group.create_task(fetch("t", 2))
        await asyncio.create_task(fetch("c", 0.5))

    tasks = run_virtual(main).recording.tasks
    assert [(t.label, t.created, t.ended, t.state) for t in tasks] == [
        ("main()", 0.0, 3.5, "done"),
        ("fetch('g', 1)", 0.0, 1.0, "done"),
        ("fetch('t', 2)", 1.0, 3.0, "done"),
        ("fetch('c', 0.5)", 3.0, 3.5, "done"),
    ]
    assert tasks[0].intervals == [
        Interval("waiting", 0.0, 1.0, "main: awaiting _GatheringFuture"),
        Interval("waiting", 1.0, 3.0, "main: awaiting TaskGroup.__aexit__()"),
        Interval("waiting", 3.0, 3.5, "main: awaiting task fetch('c', 0.5)"),
    ]


def test_threads_blocking_and_cancellation_have_their_own_kinds() -> None:
    import time

    async def hog() -> None:
        time.sleep(1)

    async def main() -> None:
        slow = asyncio.create_task(fetch("slow", 10))
        await asyncio.to_thread(time.sleep, 2)
        await hog()
        slow.cancel()
        await asyncio.gather(slow, return_exceptions=True)

    recording = run_virtual(main).recording
    assert recording.task("main").intervals[0] == Interval("thread", 0.0, 2.0,
                                                           "main: waiting for a thread")
    assert recording.task("main").intervals[1] == Interval("blocked", 2.0, 3.0, "time.sleep(1)")
    slow = recording.task("fetch")
    assert (slow.state, slow.ended) == ("cancelled", 3.0)
    assert recording.task("fetch").time_in("timer") == 3.0


def test_max_concurrent_counts_half_open_intervals() -> None:
    async def waves() -> None:
        await asyncio.gather(*(fetch(str(i), 1) for i in range(3)))
        await asyncio.gather(*(fetch(str(i), 1) for i in range(2)))

    recording = run_virtual(waves).recording
    assert recording.max_concurrent("timer") == 3
    assert recording.max_concurrent("thread") == 0


def test_semaphore_limit_is_visible_in_the_recording() -> None:
    async def limited(limit: int) -> None:
        gate = asyncio.Semaphore(limit)

        async def one(i: int) -> None:
            async with gate:
                await fetch(str(i), 1 + i % 2)

        await asyncio.gather(*(one(i) for i in range(7)))

    for limit in (1, 2, 3):
        assert run_virtual(limited, limit).recording.max_concurrent("timer") == limit


def test_recordings_are_equal_across_runs() -> None:
    async def main() -> None:
        await asyncio.gather(*(fetch(str(i), i / 7) for i in range(20)))

    assert run_virtual(main).recording == run_virtual(main).recording
