"""A selector event loop whose clock jumps to the next timer instead of waiting for it.

Why not a library: looptime (0.9) advances its virtual clock with real time while work is pending
in a thread, so a run with ``asyncio.to_thread`` gave different results on a loaded machine, and
aiotools' ``VirtualClock`` busy-spins while threads work. This loop replaces only the selector's
``select`` (trio's ``MockClock(autojump_threshold=0)`` idea, for asyncio). Each time round:

1. real I/O first: anything already ready on a socket is returned at once;
2. while a thread of the run (``to_thread``, ``run_in_executor``, a learner's own pool or
   ``threading.Thread``) runs real code, the clock is frozen and the loop waits for it for real,
   so thread work takes no virtual time; then what the threads handed over (results,
   ``call_soon_threadsafe`` callbacks) is delivered in a fixed order (see ``jobs``);
3. while a reply is due on a connection to outside the loop (see ``traffic``), the loop waits
   for it for real with the clock frozen, so a local server's reply never races a timeout;
4. otherwise the clock jumps to the earliest timer or waiting thread (``time.sleep`` in a
   thread is a virtual sleep; a job queued for a busy pool waits without holding the clock);
5. nothing to wait for at all: a ``DeadlockError`` that names the stuck tasks and threads,
   instead of a hang (a thread still running code is waited for, never called stuck).

The loop's own thread blocked in a learner's call (``time.sleep``, ``Future.result``,
``Thread.join``: see ``detect``) moves the clock the same way, through the threads' waits, with
nothing else running. The default executor has ``DEFAULT_WORKERS`` threads whatever the machine:
asyncio's default, ``min(32, os.cpu_count() + 4)``, would make a grade depend on where it runs.
"""

from __future__ import annotations

import asyncio
import collections
import concurrent.futures
import selectors
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar, cast

from .errors import BusyLoopError, DeadlockError, RunError, VirtualTimeLimit
from .jobs import ThreadJobs, current_job
from .jobs import context as thread_context
from .traffic import Traffic

__all__ = ["DEFAULT_WORKERS", "VirtualEventLoop"]

T = TypeVar("T")
Events = list[tuple[selectors.SelectorKey, int]]

#: Real seconds the loop waits for I/O when nothing else can ever happen.
IO_PATIENCE = 30.0
#: Worker threads of a virtual loop's default executor (``to_thread``), on every machine.
DEFAULT_WORKERS = 8


class _JumpingSelector:
    """Wraps the loop's real selector; ``select`` moves virtual time instead of waiting."""

    def __init__(self, real: selectors.BaseSelector, loop: VirtualEventLoop) -> None:
        self._real = real
        self._loop = loop

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)

    def select(self, timeout: float | None = None) -> Events:
        loop = self._loop
        if loop._fatal is not None:  # an error raised in the loop's thread, maybe caught
            error, loop._fatal = loop._fatal, None
            raise error
        loop._steps += 1
        loop.jobs.rounds += 1
        if loop._steps > loop.max_steps:
            raise BusyLoopError(
                f"the event loop went round {loop.max_steps:,} times at virtual time "
                f"{loop.time():g} s without the clock moving: a task never waits for anything "
                "that takes time (for example `while True: await asyncio.sleep(0)`)"
            )
        ready = self._real.select(0)
        jobs = loop.jobs
        if ready or (timeout == 0 and not jobs.live):  # the common case: no thread at all
            return ready
        jumped = False
        while True:
            seen = jobs.changes
            while (left := jobs.hold()) is not None:  # a thread runs code: clock frozen
                if events := self._wait(left):
                    return events
                seen = jobs.changes
            jobs.flush()
            if timeout == 0 or loop._ready or jumped:
                return []
            wait = loop.traffic.wait()
            if wait > 0:  # data is due from outside the loop: wait for it, clock frozen
                if events := self._wait(wait, seen):
                    return events
                continue
            target = self._next_event(timeout)
            if target is None:
                if events := self._idle(seen):
                    return events
                continue
            if target > loop.limit:
                raise VirtualTimeLimit(
                    f"the program was still running after {loop.limit:g} virtual seconds "
                    f"(next event at {target:g} s): it never finished"
                )
            loop._advance_to(target)
            jumped = True  # once woken threads settle and hand over, the timers run

    def _next_event(self, timeout: float | None) -> float | None:
        loop = self._loop
        deadlines = []
        if timeout is not None:
            deadlines.append(loop._scheduled[0].when() if loop._scheduled else loop._now + timeout)
        wake = loop.jobs.next_wake()
        if wake is not None:
            deadlines.append(wake)
        return min(deadlines) if deadlines else None

    def _idle(self, seen: int) -> Events:
        """Nothing will happen in virtual time: wait for real work, or end with a reason."""
        loop, jobs = self._loop, self._loop.jobs
        if jobs.working() and loop.wait_for_threads:  # never call a working thread stuck
            return self._wait(None, seen) or []
        if jobs.external() or len(self._real.get_map()) > 1:  # sockets besides the wake-up pipe
            events = self._wait(IO_PATIENCE, seen)
            if events is not None:
                return events
        raise DeadlockError(loop.deadlock_message())

    def _wait(self, timeout: float | None, seen: int | None = None) -> Events | None:
        """Wait for real I/O; a thread's change interrupts the wait. Returns the I/O events,
        [] if a thread changed, None if the time ran out."""
        loop = self._loop
        if seen is not None and not loop.jobs.arm(seen):
            return []
        loop.jobs.attentive = True
        try:
            events = self._real.select(timeout)
        finally:
            loop.jobs.disarm()
            loop.jobs.attentive = False
        wake_fd = loop._ssock.fileno()
        io = [e for e in events if e[0].fd != wake_fd]
        if len(io) < len(events):
            loop._read_from_self()
            return io
        return io or None


class VirtualEventLoop(asyncio.SelectorEventLoop):
    """An asyncio loop on a virtual clock that starts at 0 and jumps from timer to timer.

    >>> import asyncio
    >>> loop = VirtualEventLoop()
    >>> loop.run_until_complete(asyncio.sleep(3600)); loop.time()
    3600.0
    >>> loop.close()
    """

    #: Worker threads of the default executor (``asyncio.to_thread``): fixed, see the module.
    default_workers: ClassVar[int] = DEFAULT_WORKERS

    if TYPE_CHECKING:  # asyncio internals this loop relies on (stable since 3.4)
        _scheduled: list[asyncio.TimerHandle]
        _ready: collections.deque[asyncio.Handle]
        _default_executor: concurrent.futures.ThreadPoolExecutor | None
        _ssock: Any

        def _write_to_self(self) -> None: ...
        def _read_from_self(self) -> None: ...
        def _check_closed(self) -> None: ...

    def __init__(self, *, limit: float = float("inf"), max_steps: int = 100_000) -> None:
        super().__init__()
        self._now = 0.0
        self.limit = limit
        self.max_steps = max_steps
        self._steps = 0
        self._fatal: RunError | None = None
        self.wait_for_threads = True  # False: a thread past its patience is not waited for
        self.jobs = ThreadJobs(self)
        self.traffic = Traffic()
        self.describe_waiting: Callable[[], list[str]] = lambda: []
        real = cast(selectors.BaseSelector, self._selector)  # type: ignore[has-type]
        self._selector = _JumpingSelector(real, self)
        self.set_default_executor(concurrent.futures.ThreadPoolExecutor(
            max_workers=self.default_workers, thread_name_prefix="virtual-worker"))

    def __repr__(self) -> str:
        return (f"<VirtualEventLoop time={self._now:g} {self.jobs!r} "
                f"running={self.is_running()} closed={self.is_closed()}>")

    def time(self) -> float:
        """The virtual time in seconds."""
        return self._now

    def _advance_to(self, when: float) -> None:
        self._now = max(self._now, when)
        self._steps = 0
        self.jobs.wake_due(self._now)

    def run_forever(self) -> None:
        """As asyncio's; meanwhile this thread's blocking waits are the loop's (see ``jobs``)."""
        saved = self.jobs.enter()
        try:
            super().run_forever()
        finally:
            self.jobs.leave(saved)

    def block(self, seconds: float) -> None:
        """The loop's thread was blocked for ``seconds``: time passes, no task runs."""
        if seconds > 0:
            self.wait_blocked(lambda: False, timeout=seconds, what="time.sleep")

    def wait_blocked(self, done: Callable[[], bool], *, timeout: float | None = None,
                     owed: Callable[[], bool] = lambda: True, what: str = "") -> bool | None:
        """The loop's thread is blocked in ``what`` until ``done()``, at most ``timeout``
        virtual seconds: the clock moves through the threads' waits (nothing else runs, as
        threads are infinitely fast next to virtual time). Returns ``done()``, or None when
        ``owed()`` says nothing of the run can make it happen (the caller then waits for real).
        A wait that can never end raises ``DeadlockError``.
        """
        deadline = None if timeout is None else self._now + timeout
        jobs = self.jobs
        jobs.attentive = True
        try:
            return self._wait_blocked(done, deadline, owed, what)
        finally:
            jobs.attentive = False

    def _wait_blocked(self, done: Callable[[], bool], deadline: float | None,
                      owed: Callable[[], bool], what: str) -> bool | None:
        jobs = self.jobs
        while True:
            seen = jobs.changes
            jobs.settle()
            jobs.flush()  # what threads finished meanwhile is handed over now, not after
            if done():
                return True
            if not owed():
                return None
            wake = jobs.next_wake()
            if deadline is not None and (wake is None or wake > deadline):
                self._advance_to(deadline)
                jobs.settle()
                return done()
            if wake is None:
                if jobs.working():  # a thread past its patience: wait for it, never call it stuck
                    jobs.wait_change(seen)
                    continue
                stuck = "; ".join(jobs.stuck()) or "no thread can make it happen"
                raise self.fail(DeadlockError(
                    f"the event loop is blocked in `{what}` waiting for threads that can never "
                    f"finish ({stuck}): the program would wait forever"))
            if deadline is None and wake > self.limit:
                raise self.fail(VirtualTimeLimit(
                    f"the program was still running after {self.limit:g} virtual seconds "
                    f"(blocked in `{what}`): it never finished"))
            self._advance_to(wake)

    def fail(self, error: RunError) -> RunError:
        """``error`` ends the run even if the learner's code catches it where it is raised."""
        self._fatal = error
        return error

    def is_thread_future(self, fut: object) -> bool:
        """Whether ``fut`` is the result of ``run_in_executor`` on this loop."""
        return self.jobs.is_result(fut)

    def thread_started(self, fut: object) -> float | None:
        """When the job of ``run_in_executor``'s ``fut`` got a worker thread (inf: not yet)."""
        return self.jobs.started(fut)

    def run_in_executor(  # type: ignore[override]
        self, executor: Any, func: Callable[..., T], *args: Any
    ) -> asyncio.Future[T]:
        """Like asyncio's, but the job follows virtual time and its result arrives in order."""
        self._check_closed()
        if executor is None:
            getattr(self, "_check_default_executor", lambda: None)()  # after shutdown: error
            if self._default_executor is None:
                self._default_executor = concurrent.futures.ThreadPoolExecutor(
                    max_workers=self.default_workers, thread_name_prefix="virtual-worker")
            executor = self._default_executor
        return self.jobs.run_in_executor(executor, func, args)

    def call_soon_threadsafe(  # type: ignore[override]
        self, callback: Callable[..., object], *args: Any, context: Any = None
    ) -> asyncio.Handle:
        """Like asyncio's; from a thread of the run, the callback waits for the next hand-over
        so that it runs in the same order on every machine (see ``jobs``)."""
        job = current_job()
        if job is None or thread_context() is not self.jobs:
            return super().call_soon_threadsafe(callback, *args, context=context)
        self._check_closed()
        handle = asyncio.Handle(callback, args, self, context)
        self.jobs.hand_over(job, handle)
        return handle

    def deadlock_message(self) -> str:
        waiting = self.describe_waiting()
        detail = f" Waiting: {'; '.join(waiting)}." if waiting else ""
        stuck = self.jobs.stuck()
        if stuck:
            queued = any("queued" in s for s in stuck)
            why = (" (the worker threads of the pool are all busy waiting, so the jobs queued "
                   "behind them can never start)" if queued else "")
            return (
                "every task is waiting and nothing can wake any of them: the threads they wait "
                f"for can never finish{why}, so the program would wait forever. Threads: "
                f"{'; '.join(stuck)}.{detail}"
            )
        return (
            "every task is waiting and nothing can wake any of them (no timer, no thread, no "
            f"I/O): the program would wait forever.{detail}"
        )

    def close(self) -> None:
        self.jobs.close()
        super().close()
