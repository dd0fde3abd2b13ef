"""The recorder: plain data that tests compare exactly."""

from __future__ import annotations

import asyncio

from asyncourse import Interval, Recording, TaskRecord, run_virtual


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
                                 Interval("timer", 1.0, 3.0, "fetch: asyncio.sleep(2)")])])


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
