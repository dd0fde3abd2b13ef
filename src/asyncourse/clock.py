"""A selector event loop whose clock jumps to the next timer instead of waiting for it.

Why not a library: looptime (0.9) advances its virtual clock with real time while work is pending
in a thread, so a run with ``asyncio.to_thread`` gave different results on a loaded machine, and
aiotools' ``VirtualClock`` busy-spins while threads work. This loop replaces only the selector's
``select`` (trio's ``MockClock(autojump_threshold=0)`` idea, for asyncio):

1. real I/O first: anything already ready on a socket is returned at once;
2. while an executor job (``to_thread``, ``run_in_executor``, ``getaddrinfo``) runs real code, the
   clock is frozen and the loop waits for it for real, so thread work takes no virtual time;
   ``time.sleep`` inside such a job is a *virtual* sleep, and results arrive in submission order
   (see ``jobs``);
3. while a reply is due on a connection to outside the loop (see ``traffic``), the loop waits
   for it for real with the clock frozen, so a local server's reply never races a timeout;
4. otherwise the clock jumps to the earliest timer (or sleeping thread), exactly to its deadline;
5. nothing to wait for at all: a ``DeadlockError`` that names the stuck tasks, instead of a hang.

A job's completion is delivered and counted in one loop callback, so the loop never sees a
finished-but-undelivered job, which is what makes the outcome independent of machine load.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import selectors
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar, cast

from .errors import BusyLoopError, DeadlockError, VirtualTimeLimit
from .jobs import ThreadJobs
from .traffic import Traffic

__all__ = ["VirtualEventLoop"]

T = TypeVar("T")

#: Real seconds the loop waits for I/O when nothing else can ever happen.
IO_PATIENCE = 30.0



class _JumpingSelector:
    """Wraps the loop's real selector; ``select`` moves virtual time instead of waiting."""

    def __init__(self, real: selectors.BaseSelector, loop: VirtualEventLoop) -> None:
        self._real = real
        self._loop = loop

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)

    def select(self, timeout: float | None = None) -> list[tuple[selectors.SelectorKey, int]]:
        loop = self._loop
        loop._steps += 1
        if loop._steps > loop.max_steps:
            raise BusyLoopError(
                f"the event loop went round {loop.max_steps:,} times at virtual time "
                f"{loop.time():g} s without the clock moving: a task never waits for anything "
                "that takes time (for example `while True: await asyncio.sleep(0)`)"
            )
        events = self._real.select(0)
        if events or timeout == 0:
            return events
        while True:
            if loop.jobs.working() > 0:  # a thread runs real code: wait, clock frozen
                events = self._real.select(None)
                if events:
                    return events
                continue
            wait = loop.traffic.wait()
            if wait > 0:  # data is due from outside the loop: wait for it, clock frozen
                events = self._real.select(wait)
                if events:
                    return events
                continue
            return self._jump(timeout)

    def _jump(self, timeout: float | None) -> list[tuple[selectors.SelectorKey, int]]:
        loop = self._loop
        deadlines = []
        if timeout is not None:
            deadlines.append(loop._scheduled[0].when() if loop._scheduled else loop._now + timeout)
        wake = loop.jobs.next_wake()
        if wake is not None:
            deadlines.append(wake)
        if not deadlines:
            if len(self._real.get_map()) > 1:  # sockets besides the loop's own wake-up pipe
                events = self._real.select(IO_PATIENCE)
                if events:
                    return events
            raise DeadlockError(loop.deadlock_message())
        target = min(deadlines)
        if target > loop.limit:
            raise VirtualTimeLimit(
                f"the program was still running after {loop.limit:g} virtual seconds "
                f"(next event at {target:g} s): it never finished"
            )
        loop._advance_to(target)
        return []


class VirtualEventLoop(asyncio.SelectorEventLoop):
    """An asyncio loop on a virtual clock that starts at 0 and jumps from timer to timer.

    >>> import asyncio
    >>> loop = VirtualEventLoop()
    >>> loop.run_until_complete(asyncio.sleep(3600)); loop.time()
    3600.0
    >>> loop.close()
    """

    if TYPE_CHECKING:  # asyncio internals this loop relies on (stable since 3.4)
        _scheduled: list[asyncio.TimerHandle]
        _default_executor: concurrent.futures.ThreadPoolExecutor | None

        def _write_to_self(self) -> None: ...
        def _check_closed(self) -> None: ...

    def __init__(self, *, limit: float = float("inf"), max_steps: int = 100_000) -> None:
        super().__init__()
        self._now = 0.0
        self.limit = limit
        self.max_steps = max_steps
        self._steps = 0
        self.jobs = ThreadJobs(self)
        self.traffic = Traffic()
        self.describe_waiting: Callable[[], list[str]] = lambda: []
        real = cast(selectors.BaseSelector, self._selector)  # type: ignore[has-type]
        self._selector = _JumpingSelector(real, self)
        self.set_default_executor(concurrent.futures.ThreadPoolExecutor(
            max_workers=8, thread_name_prefix="virtual-worker"))

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

    def block(self, seconds: float) -> None:
        """The loop's thread was blocked for ``seconds``: time passes, nothing else runs."""
        if seconds > 0:
            self.jobs.wait_idle()  # threads are infinitely fast next to virtual time
            self._advance_to(self._now + seconds)

    def is_thread_future(self, fut: object) -> bool:
        """Whether ``fut`` is the result of ``run_in_executor`` on this loop."""
        return self.jobs.is_result(fut)

    def run_in_executor(  # type: ignore[override]
        self, executor: Any, func: Callable[..., T], *args: Any
    ) -> asyncio.Future[T]:
        """Like asyncio's, but results arrive in submission order (see ``jobs``)."""
        self._check_closed()
        pool = executor or self._default_executor
        assert pool is not None, "the loop's default executor is set in __init__"
        return self.jobs.submit(pool, func, args)

    def deadlock_message(self) -> str:
        waiting = self.describe_waiting()
        detail = f" Waiting: {'; '.join(waiting)}." if waiting else ""
        return (
            "every task is waiting and nothing can wake any of them (no timer, no thread, no "
            f"I/O): the program would wait forever.{detail}"
        )

    def close(self) -> None:
        self.jobs.close()
        super().close()

