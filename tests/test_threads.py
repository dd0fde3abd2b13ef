"""Threads in virtual time: pools queue, thread sleeps take virtual time, nothing hangs.

Issue 14: a ``gather`` of nine ``to_thread(time.sleep, 1.0)`` never returned, because the job
queued behind the 8 sleeping workers counted as working. These tests pin down the rules of
``asyncourse.jobs``: queued, running and finished jobs, the learner's own pools and threads,
callbacks from threads, and the loop's thread blocked waiting for a thread.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import math
import os
import re
import threading
import time
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from asyncourse import DeadlockError, Interval, VirtualEventLoop, run_virtual


async def sleeps_in_threads(n: int, seconds: float = 1.0) -> None:
    await asyncio.gather(*(asyncio.to_thread(time.sleep, seconds) for _ in range(n)))


@pytest.mark.parametrize(("n", "elapsed"), [(8, 1.0), (9, 2.0), (20, 3.0)])
def test_to_thread_jobs_beyond_the_pool_wait_their_turn(n: int, elapsed: float) -> None:
    assert VirtualEventLoop.default_workers == 8
    assert run_virtual(sleeps_in_threads, n).elapsed == elapsed


def test_the_default_pool_does_not_depend_on_the_machine(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "cpu_count", lambda: 64)  # asyncio's own default would be 32
    assert run_virtual(sleeps_in_threads, 20).elapsed == 3.0


@settings(max_examples=25, deadline=None, derandomize=True, database=None)
@given(k=st.integers(1, 3), extra=st.integers(1, 7), tenths=st.integers(1, 30),
       direct=st.booleans())
def test_a_pool_of_k_threads_runs_n_jobs_in_ceil_n_over_k_rounds(
        k: int, extra: int, tenths: int, direct: bool) -> None:
    n, d = k + extra, tenths / 10

    async def main() -> None:
        loop = asyncio.get_running_loop()
        with concurrent.futures.ThreadPoolExecutor(max_workers=k) as pool:
            if direct:  # pool.submit, awaited through asyncio.wrap_future
                jobs = [asyncio.wrap_future(pool.submit(time.sleep, d)) for _ in range(n)]
            else:
                jobs = [loop.run_in_executor(pool, time.sleep, d) for _ in range(n)]
            await asyncio.gather(*jobs)

    run = run_virtual(main)
    assert run.elapsed == pytest.approx(math.ceil(n / k) * d, abs=1e-9)
    assert run.findings == []


def test_a_queued_job_is_drawn_waiting_for_a_worker_then_in_its_thread() -> None:
    async def job(i: int) -> None:
        await asyncio.to_thread(time.sleep, 1.0)

    async def main() -> None:
        await asyncio.gather(*(job(i) for i in range(20)))

    recording = run_virtual(main).recording
    assert recording.max_concurrent("thread") == 8  # tasks waiting on a running thread
    assert recording.task("job(19)").intervals[-2:] == [
        Interval("waiting", 0.0, 2.0, "job: waiting for a free worker thread"),
        Interval("thread", 2.0, 3.0, "job: waiting for a thread"),
    ]


def test_a_learners_thread_resolving_a_future_is_waited_for() -> None:
    """No false DeadlockError while the thread works: it is part of the run."""
    async def main() -> str:
        loop = asyncio.get_running_loop()
        answer: asyncio.Future[str] = loop.create_future()

        def work() -> None:
            total = sum(range(100_000))  # real work: no virtual time
            time.sleep(1.5)  # in a thread of the run: virtual time
            loop.call_soon_threadsafe(answer.set_result, f"sum {total}")

        threading.Thread(target=work).start()
        return await answer

    run = run_virtual(main)
    assert (run.result, run.elapsed) == (f"sum {sum(range(100_000))}", 1.5)


def test_callbacks_from_threads_arrive_in_one_order_on_every_run() -> None:
    async def main() -> list[str]:
        loop = asyncio.get_running_loop()
        order: list[str] = []

        def work(name: str) -> None:
            for step in range(3):
                loop.call_soon_threadsafe(order.append, f"{name}{step}")

        await asyncio.gather(*(asyncio.to_thread(work, name) for name in "abcde"))
        return order

    outcomes = {tuple(run_virtual(main).result) for _ in range(30)}
    assert outcomes == {tuple(f"{n}{s}" for n in "abcde" for s in range(3))}


def test_the_loop_blocked_waiting_for_a_thread_moves_the_clock_and_says_so() -> None:
    async def waits_for_future() -> None:
        with concurrent.futures.ThreadPoolExecutor(2) as pool:
            pool.submit(time.sleep, 1.5).result()

    async def joins() -> None:
        thread = threading.Thread(target=time.sleep, args=(2,))
        thread.start()
        thread.join()

    run = run_virtual(waits_for_future)
    assert run.elapsed == 1.5
    assert re.match(r"the event loop was blocked 1\.5 s by `Future\.result` in "
                    r"`waits_for_future` at line \d+ while it waited for a thread: await the "
                    r"thread's work instead", run.messages()[0])
    run = run_virtual(joins)
    assert run.elapsed == 2.0
    assert "blocked 2.0 s by `Thread.join` in `joins`" in run.messages()[0]


def test_a_blocking_sleep_on_the_loop_lets_threads_wake_at_their_own_time() -> None:
    async def main() -> list[tuple[str, float]]:
        loop = asyncio.get_running_loop()
        seen: list[tuple[str, float]] = []

        def job() -> None:
            time.sleep(0.5)
            seen.append(("thread woke", loop.time()))

        pending = asyncio.ensure_future(asyncio.to_thread(job))
        await asyncio.sleep(0)  # the job starts
        time.sleep(2)  # blocks the loop: the thread still wakes at 0.5
        seen.append(("loop unblocked", loop.time()))
        await pending
        return seen

    assert run_virtual(main).result == [("thread woke", 0.5), ("loop unblocked", 2.0)]


def test_a_pool_whose_workers_wait_for_jobs_behind_them_is_a_deadlock_with_a_reason() -> None:
    async def job_waits() -> int:
        loop = asyncio.get_running_loop()
        pool = concurrent.futures.ThreadPoolExecutor(1)
        return await loop.run_in_executor(pool, lambda: pool.submit(int).result())

    async def loop_waits() -> int:
        pool = concurrent.futures.ThreadPoolExecutor(1)
        return pool.submit(lambda: pool.submit(int).result()).result()

    with pytest.raises(DeadlockError, match=(
            r"the threads they wait for can never finish \(the worker threads of the pool are "
            r"all busy waiting, so the jobs queued behind them can never start\).*`<lambda>` "
            r"waits in `Future.result\(\)`; `int` is queued for the only worker thread of its "
            r"pool, which is busy")):
        run_virtual(job_waits)
    with pytest.raises(DeadlockError, match=(
            r"the event loop is blocked in `Future.result` waiting for threads that can never "
            r"finish \(`<lambda>` waits in `Future.result\(\)`; `int` is queued")):
        run_virtual(loop_waits)


def test_a_thread_may_call_back_into_the_loop_and_wait() -> None:
    async def main() -> int:
        loop = asyncio.get_running_loop()

        async def later() -> int:
            await asyncio.sleep(3)
            return 42

        def work() -> int:
            return asyncio.run_coroutine_threadsafe(later(), loop).result()

        return await asyncio.to_thread(work)

    run = run_virtual(main)
    assert (run.result, run.elapsed) == (42, 3.0)


def test_a_helper_thread_with_its_own_event_loop_is_joined() -> None:
    """ps4's ``run_main``: a coroutine runs ``asyncio.run`` in a thread and joins it."""
    async def inner() -> str:
        await asyncio.sleep(0.01)  # a real loop: real time
        return "inner done"

    async def main() -> str:
        box: dict[str, Any] = {}
        thread = threading.Thread(target=lambda: box.update(v=asyncio.run(inner())))
        thread.start()
        thread.join()
        return str(box["v"])

    run = run_virtual(main)
    assert (run.result, run.elapsed, run.findings) == ("inner done", 0.0, [])


def test_waits_inside_threads_are_virtual() -> None:
    async def main() -> tuple[str, str]:
        pool = concurrent.futures.ThreadPoolExecutor(2)

        def impatient() -> str:
            try:
                pool.submit(time.sleep, 5).result(timeout=1)
            except TimeoutError:
                return "gave up"
            return "got it"

        def joiner() -> str:
            child = threading.Thread(target=time.sleep, args=(2,))
            child.start()
            child.join()
            return "joined"

        return await asyncio.gather(asyncio.to_thread(impatient), asyncio.to_thread(joiner))

    run = run_virtual(main)
    assert (run.result, run.elapsed) == (["gave up", "joined"], 2.0)


def test_a_cancelled_queued_job_never_runs() -> None:
    ran: list[str] = []

    def job(name: str) -> None:
        time.sleep(2)
        ran.append(name)

    async def main() -> None:
        loop = asyncio.get_running_loop()
        pool = concurrent.futures.ThreadPoolExecutor(1)
        first = loop.run_in_executor(pool, job, "first")
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(loop.run_in_executor(pool, job, "second"), 1)
        await first

    assert run_virtual(main).elapsed == 2.0
    assert ran == ["first"]


def test_threads_still_running_when_main_returns_finish_as_with_asyncio_run() -> None:
    done: list[float] = []

    async def main() -> None:
        loop = asyncio.get_running_loop()
        loop.run_in_executor(None, lambda: (time.sleep(5), done.append(loop.time())))

    assert run_virtual(main).elapsed == 0.0
    assert done == [5.0]  # asyncio.run waits for the default executor's threads, too


@pytest.mark.slow  # each waits out jobs.PATIENCE (2 real seconds)
def test_a_thread_that_never_stops_or_waits_for_the_loop_does_not_hold_the_clock() -> None:
    async def waits_for_a_task() -> str:
        event = threading.Event()
        answer = asyncio.ensure_future(asyncio.to_thread(lambda: event.wait() and "set"))
        await asyncio.sleep(1)  # the thread blocks on something only this task can do
        event.set()
        return await answer

    async def server_thread() -> float:
        stop = threading.Event()
        threading.Thread(target=stop.wait, daemon=True).start()  # a thread that runs on
        await asyncio.sleep(5)
        stop.set()
        return asyncio.get_running_loop().time()

    assert run_virtual(waits_for_a_task).result == "set"
    assert run_virtual(server_thread).result == 5.0


def test_the_loop_blocked_past_the_limit_or_on_a_future_nobody_sets_ends_with_a_reason(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from asyncourse import VirtualTimeLimit, detect

    async def joins_a_long_thread() -> None:
        thread = threading.Thread(target=time.sleep, args=(100,))
        thread.start()
        thread.join()

    async def waits_for_nothing() -> None:
        concurrent.futures.Future().result()  # nothing in the program will ever set it

    with pytest.raises(VirtualTimeLimit, match=r"after 10 virtual seconds \(blocked in "
                                               r"`Thread.join`\): it never finished"):
        run_virtual(joins_a_long_thread, limit=10)
    monkeypatch.setattr(detect, "FUTURE_PATIENCE", 0.2)
    with pytest.raises(DeadlockError, match=r"waited 0.2 real seconds in `Future.result\(\)` "
                                            r"for a future that no task, timer or thread"):
        run_virtual(waits_for_nothing)


def test_a_thread_whose_loop_is_stuck_in_a_wait_not_modelled_is_released(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """``concurrent.futures.wait`` on the loop's thread: a wrong time beats a hang."""
    from asyncourse import jobs

    monkeypatch.setattr(jobs, "RESCUE", 0.2)

    async def main() -> str:
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            done, _ = concurrent.futures.wait([pool.submit(time.sleep, 30)])
        return f"{len(done)} done"

    assert run_virtual(main, raise_errors=False).result == "1 done"
