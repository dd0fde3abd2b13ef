"""Executor jobs of a virtual loop: each one working, sleeping in virtual time, or done.

Threads are real, so two jobs started at the same virtual instant finish in whatever order the
machine allows. To keep every run identical, a finished job's result is delivered to the loop
only when every job submitted before it has been delivered or is asleep in virtual time, i.e.
results arrive in submission order, as if the machine were infinitely fast. ``time.sleep`` in a
job is a virtual sleep: the job waits until the loop's clock reaches its wake-up time.
asyncio's own ``run_in_executor`` has no such hook, hence this module.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = ["ThreadJobs"]

_local = threading.local()


@dataclass
class _Job:
    seq: int
    outcome: concurrent.futures.Future[Any]
    result: asyncio.Future[Any]
    state: Literal["working", "sleeping", "done"] = "working"
    wake: float = 0.0
    woken: threading.Event = field(default_factory=threading.Event)


class ThreadJobs:
    """The loop's undelivered executor jobs, in submission order."""

    def __init__(self, loop: Any) -> None:
        self._loop = loop
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)  # a job stopped working
        self._jobs: dict[int, _Job] = {}
        self._next = 0
        self._closing = False

    def __repr__(self) -> str:
        states = [j.state for j in self._jobs.values()]
        return f"<ThreadJobs working={states.count('working')} sleeping={states.count('sleeping')}>"

    def working(self) -> int:
        """How many jobs run real code, or finished and wait to be delivered: the clock must
        wait for them (a finished job's delivery is already on its way to the loop)."""
        with self._lock:
            return sum(j.state != "sleeping" for j in self._jobs.values())

    def wait_idle(self) -> None:
        """Wait (for real) until no job runs code: before the loop's own thread moves the clock,
        so that a job never reads a time that depends on how fast the machine is."""
        with self._changed:
            self._changed.wait_for(
                lambda: self._closing or all(j.state != "working" for j in self._jobs.values()))

    def next_wake(self) -> float | None:
        """The earliest virtual time a sleeping job wakes up at."""
        with self._lock:
            wakes = [j.wake for j in self._jobs.values() if j.state == "sleeping"]
        return min(wakes) if wakes else None

    def is_result(self, fut: object) -> bool:
        """Whether ``fut`` is the asyncio future of one of these jobs."""
        return any(j.result is fut for j in self._jobs.values())

    def submit(self, executor: concurrent.futures.Executor, func: Callable[..., Any],
               args: tuple[Any, ...]) -> asyncio.Future[Any]:
        """Start ``func(*args)`` in ``executor``; its result reaches the loop in order."""
        result: asyncio.Future[Any] = self._loop.create_future()
        seq = self._next
        self._next += 1

        def run() -> Any:
            _local.job = (self, seq)
            try:
                return func(*args)
            finally:
                _local.job = None

        with self._lock:
            outcome = executor.submit(run)
            self._jobs[seq] = _Job(seq, outcome, result)

        def finished(_: concurrent.futures.Future[Any]) -> None:
            with self._lock:
                job = self._jobs.get(seq)
                if job is not None:
                    job.state = "done"
                self._changed.notify_all()
            self._loop.call_soon_threadsafe(self.deliver)

        outcome.add_done_callback(finished)
        result.add_done_callback(lambda f: outcome.cancel() if f.cancelled() else None)
        return result

    def deliver(self) -> None:
        """In the loop's thread: hand over finished results, in submission order."""
        ready = []
        with self._lock:
            for seq in sorted(self._jobs):
                job = self._jobs[seq]
                if job.state == "working":
                    break
                if job.state == "done":
                    ready.append(self._jobs.pop(seq))
        for job in ready:
            if job.result.cancelled():
                continue
            if job.outcome.cancelled():
                job.result.cancel()
            elif (exc := job.outcome.exception()) is not None:
                job.result.set_exception(exc)
            else:
                job.result.set_result(job.outcome.result())

    def wake_due(self, now: float) -> None:
        """The clock reached ``now``: wake the jobs whose sleep ends by then."""
        with self._lock:
            for job in self._jobs.values():
                if job.state == "sleeping" and job.wake <= now:
                    job.state = "working"
                    job.woken.set()

    def close(self) -> None:
        """Release every sleeping job so that the executor can shut down."""
        with self._lock:
            self._closing = True
            for job in self._jobs.values():
                job.woken.set()


def sleep_in_job(seconds: float) -> bool:
    """``time.sleep`` inside a job of a virtual loop; False if this thread runs no such job."""
    current = getattr(_local, "job", None)
    if current is None:
        return False
    jobs, seq = current
    with jobs._lock:
        job = jobs._jobs.get(seq)
        if job is None or jobs._closing or seconds <= 0:
            return job is not None or jobs._closing
        job.woken.clear()
        job.state = "sleeping"
        job.wake = jobs._loop.time() + seconds
        jobs._changed.notify_all()
    jobs._loop.call_soon_threadsafe(jobs.deliver)  # later jobs may deliver now; wakes select
    job.woken.wait()
    return True
