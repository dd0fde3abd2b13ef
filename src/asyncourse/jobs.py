"""The threads of a virtual run: each job queued, working, waiting in virtual time, or done.

Threads are real and run at the machine's speed; the virtual clock must not depend on it. So a
thread of the run (a ``to_thread`` / ``run_in_executor`` job, a job submitted to any
``ThreadPoolExecutor``, a ``threading.Thread`` the learner starts) follows four rules:

1. *Thread work is infinitely fast.* While a thread runs real code the clock is frozen and the
   loop runs nothing but real I/O: it waits (for real) until every thread has finished, or waits
   in virtual time. A thread still running after ``PATIENCE`` real seconds (a server loop, a
   thread blocked on something only the loop's tasks release) stops holding the loop back.
2. *Waiting in a thread takes virtual time.* ``time.sleep``, ``Future.result`` and
   ``Thread.join`` in a thread wait on the virtual clock (and a timeout is virtual seconds).
3. *A pool of k threads runs k jobs at once*, the others wait in its queue, in submission order,
   without holding the clock: with a pool of k, n jobs of d seconds take ceil(n/k)·d seconds,
   and a job queued behind k workers that are all asleep no longer freezes the run (issue 14).
4. *What threads hand to the loop arrives in a fixed order*: results and
   ``call_soon_threadsafe`` callbacks are held back and handed over at the loop's next round
   (or, while the loop's thread is blocked, when the thread finished, as real threads do), job
   by job in the order the jobs started, each job's in the order it made them; a result comes
   as a callback that sets the future, the way asyncio's ``run_in_executor`` delivers it.

So a run gives the same outcome on an idle and on a loaded machine. asyncio has no hook for any
of this (``run_in_executor`` just submits), and no library models executors in virtual time.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import math
import threading
import time
import weakref
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = ["PATIENCE", "ThreadJobs", "context", "current_job", "sleep_in_job"]

#: Real seconds a thread may run code before the loop stops waiting for it.
PATIENCE = 2.0
#: Real seconds a thread waits in virtual time while the loop's thread neither goes round nor
#: waits for threads (it is stuck in a call not modelled here, ``queue.Queue.get`` say) before
#: the wait ends anyway: a wrong time is better than a hang.
RESCUE = 10.0

State = Literal["queued", "starting", "working", "waiting", "done"]
_HOLDING = ("starting", "working")  # states in which a job holds the clock
_submit = concurrent.futures.ThreadPoolExecutor.submit  # the real one, whoever patches it later
_local = threading.local()  # .jobs: the ThreadJobs of this thread's loop or job; .job: its job


@dataclass(eq=False)
class _Pool:
    """A ``ThreadPoolExecutor`` as the run uses it: how many of its workers hold a job."""

    executor: concurrent.futures.Executor
    size: int | None  # None: not a thread pool (a process pool...): no queue modelled
    busy: int = 0  # jobs that have a worker: starting, working or waiting
    queue: deque[_Job] = field(default_factory=deque)


@dataclass(eq=False)
class _Job:
    seq: int
    name: str  # what runs, for messages: "`legacy_read` in a thread"
    pool: _Pool | None  # None: a thread of its own
    outcome: concurrent.futures.Future[Any] | None = None
    result: asyncio.Future[Any] | None = None  # run_in_executor's, set when handed over
    thread: threading.Thread | None = None
    state: State = "queued"
    since: float = 0.0  # real time it began holding the clock
    started: float = math.inf  # virtual time it got a worker thread
    wake: float | None = None  # virtual deadline of its wait (None: no deadline)
    on: str = ""  # what it waits for, for messages
    external: bool = False  # waits for something outside the run
    token: int = 0  # which wait a resumption is for
    fired: bool = False  # what it waits for already happened
    woken: threading.Event = field(default_factory=threading.Event)
    handoffs: list[asyncio.Handle] = field(default_factory=list)
    joiners: list[tuple[_Job, int]] = field(default_factory=list)  # (job, token) joining it


def context() -> ThreadJobs | None:
    """The jobs of the virtual run this thread belongs to: its loop's thread or one of its jobs."""
    jobs: ThreadJobs | None = getattr(_local, "jobs", None)
    return jobs


def current_job() -> _Job | None:
    """The job this thread runs, if it is a thread of a virtual run."""
    job: _Job | None = getattr(_local, "job", None)
    return job


class ThreadJobs:
    """A virtual loop's threads and jobs, in the order they started."""

    def __init__(self, loop: Any) -> None:
        self.loop = loop
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)  # a job changed state
        self.live: dict[int, _Job] = {}  # not yet handed over, by start order (read-only)
        self._pools: dict[int, _Pool] = {}
        self._results: weakref.WeakKeyDictionary[asyncio.Future[Any], _Job] = (
            weakref.WeakKeyDictionary())
        self._next = 0
        self._holding = 0  # jobs in a _HOLDING state
        self._dirty = False  # something to hand over
        self._loop_waits = False  # the loop's thread waits in its selector: write to wake it
        self.changes = 0  # how many times a job changed state or handed something over
        self.rounds = 0  # how many times the loop went round (see RESCUE)
        self.attentive = False  # the loop's thread waits for the threads (see RESCUE)
        self._closing = False

    def __repr__(self) -> str:
        with self._lock:
            states = [j.state for j in self.live.values()]
        shown = " ".join(f"{s}={states.count(s)}" for s in dict.fromkeys(states))
        return f"<ThreadJobs {shown or 'idle'}>"

    # ------------------------------------------------------------ the loop's thread
    def enter(self) -> object:
        """This thread now runs the loop: its blocking waits are the loop's (see ``clock``)."""
        saved = (getattr(_local, "jobs", None), getattr(_local, "job", None))
        _local.jobs, _local.job = self, None
        return saved

    def leave(self, saved: object) -> None:
        _local.jobs, _local.job = saved  # type: ignore[misc]

    def hold(self) -> float | None:
        """Real seconds the loop must still wait for threads that run code (None: none does)."""
        if not self.live:  # safe without the lock: only a holding job or the loop adds one
            return None
        with self._lock:
            left = self._hold()
            self._loop_waits = left is not None
            return left

    def _hold(self) -> float | None:
        if not self._holding:
            return None
        now, left = time.monotonic(), math.inf
        for job in self.live.values():
            if job.state in _HOLDING:
                left = min(left, job.since + PATIENCE - now)
        return left if left > 0 else None

    def settle(self) -> None:
        """Wait (for real) until no thread runs code: before the blocked loop moves the clock."""
        with self._changed:
            while (left := self._hold()) is not None and not self._closing:
                self._changed.wait(left)

    def wait_change(self, seen: int) -> None:
        """Wait (for real) until a job changes after the ``seen``-th change."""
        with self._changed:
            while self.changes == seen and not self._closing:
                self._changed.wait()

    def arm(self, seen: int) -> bool:
        """Before the loop's thread waits in its selector: have the next change wake it.
        False if a job changed after the ``seen``-th change already (look again instead)."""
        with self._lock:
            self._loop_waits = self.changes == seen
            return self._loop_waits

    def disarm(self) -> None:
        self._loop_waits = False

    def flush(self) -> None:
        """Hand over what the threads gave the loop, in a fixed order (rule 4). A result
        arrives as asyncio's own ``run_in_executor`` delivers it: a callback that sets the
        future (``call_soon_threadsafe`` in ``asyncio.futures._chain_future``)."""
        if not self._dirty:
            return
        batch: list[asyncio.Handle] = []
        with self._lock:
            self._dirty = False
            for job in list(self.live.values()):
                batch += job.handoffs
                job.handoffs = []
                if job.state == "done":
                    del self.live[job.seq]
                    if job.result is not None:
                        batch.append(asyncio.Handle(_deliver, (job,), self.loop))
        self.loop._ready.extend(batch)

    def next_wake(self) -> float | None:
        """The earliest virtual time a waiting job wakes up at."""
        if not self.live:
            return None
        with self._lock:
            wakes = [j.wake for j in self.live.values()
                     if j.state == "waiting" and j.wake is not None]
        return min(wakes) if wakes else None

    def wake_due(self, now: float) -> None:
        """The clock reached ``now``: wake the jobs whose wait ends by then."""
        if not self.live:
            return
        with self._lock:
            for job in self.live.values():
                if job.state == "waiting" and job.wake is not None and job.wake <= now:
                    self._resume(job)

    def working(self) -> bool:
        """Whether a thread still runs code (once ``hold`` says None: past its patience)."""
        with self._lock:
            return any(j.state in _HOLDING for j in self.live.values())

    def external(self) -> bool:
        """Whether a job waits for something from outside the run (it may yet come)."""
        with self._lock:
            return any(j.state == "waiting" and j.external for j in self.live.values())

    def stuck(self) -> list[str]:
        """Jobs that wait for each other or for a worker, for a deadlock message."""
        with self._lock:
            found = []
            for job in self.live.values():
                if job.state == "queued" and job.pool is not None:
                    workers = ("the only worker thread of its pool, which is busy"
                               if job.pool.size == 1 else
                               f"one of the {job.pool.size} worker threads of its pool, all busy")
                    found.append(f"{job.name} is queued for {workers}")
                elif job.state == "waiting" and job.wake is None:
                    found.append(f"{job.name} waits in {job.on}")
            return found

    def is_result(self, fut: object) -> bool:
        """Whether ``fut`` is the asyncio future of a ``run_in_executor`` job."""
        if not self._results:
            return False
        try:
            return fut in self._results
        except TypeError:  # not hashable, not weak-referenceable: not ours
            return False

    def started(self, fut: object) -> float | None:
        """When the job of ``fut`` got a worker thread (inf: not yet); None if not a job."""
        try:
            job = self._results.get(fut)  # type: ignore[call-overload]
        except TypeError:
            return None
        return None if job is None else job.started

    def close(self) -> None:
        """Release every waiting job so that threads and executors can finish."""
        with self._changed:
            self._closing = True
            for job in self.live.values():
                job.woken.set()
            self._results.clear()
            self._changed.notify_all()

    # ------------------------------------------------------------ starting jobs
    def submit(self, executor: concurrent.futures.Executor, func: Callable[..., Any],
               args: tuple[Any, ...], kwargs: dict[str, Any]) -> concurrent.futures.Future[Any]:
        """``executor.submit(func, *args, **kwargs)`` made by the run: a job of the run."""
        outcome = self._start(executor, func, args, kwargs, None).outcome
        assert outcome is not None
        return outcome

    def run_in_executor(self, executor: concurrent.futures.Executor, func: Callable[..., Any],
                        args: tuple[Any, ...]) -> asyncio.Future[Any]:
        """A job whose result reaches the loop as an asyncio future, in order (rule 4)."""
        result: asyncio.Future[Any] = self.loop.create_future()
        job = self._start(executor, func, args, {}, result)
        outcome = job.outcome
        assert outcome is not None
        result.add_done_callback(lambda f: outcome.cancel() if f.cancelled() else None)
        return result

    def _start(self, executor: concurrent.futures.Executor, func: Callable[..., Any],
               args: tuple[Any, ...], kwargs: dict[str, Any],
               result: asyncio.Future[Any] | None) -> _Job:
        pool = self._pool(executor)
        with self._lock:
            job = _Job(self._next, f"`{_name(func)}`", pool, result=result)
            self._next += 1
            if result is not None:
                self._results[result] = job
            if pool.size is None:  # not a thread pool: the work runs, for real, elsewhere
                self._add(job, "working")
            else:
                job.outcome = concurrent.futures.Future()
                if pool.busy < pool.size:
                    pool.busy += 1
                    self._add(job, "starting")
                else:
                    pool.queue.append(job)
                    self._add(job, "queued")
            try:
                if pool.size is None:
                    job.outcome = executor.submit(func, *args, **kwargs)
                    ticket = job.outcome
                else:
                    ticket = _submit(executor, self._run, job, func, args, kwargs)
            except BaseException:
                self._drop(job)
                raise
        outcome = job.outcome
        assert outcome is not None
        if ticket is outcome:
            outcome.add_done_callback(lambda _: self._finish(job))
        else:  # shutdown(cancel_futures=True) may cancel the work before it runs
            ticket.add_done_callback(lambda t: outcome.cancel() if t.cancelled() else None)
            outcome.add_done_callback(lambda o: self._cancelled(job) if o.cancelled() else None)
        return job

    def adopt(self, thread: threading.Thread) -> None:
        """``thread`` is about to start: it becomes a job of the run (called before start)."""
        with self._lock:
            job = _Job(self._next, f"the thread `{thread.name}`", None, thread=thread)
            self._next += 1
            self._add(job, "working")
        run = thread.run

        def run_as_job() -> None:
            _local.jobs, _local.job = self, job
            try:
                run()
            finally:
                _local.jobs = _local.job = None
                self._finish(job)

        thread.run = run_as_job  # type: ignore[method-assign]
        thread._asyncourse_job = job  # type: ignore[attr-defined]

    def abandon(self, thread: threading.Thread) -> None:
        """``thread`` failed to start: it is no job after all."""
        job = getattr(thread, "_asyncourse_job", None)
        if isinstance(job, _Job):
            with self._lock:
                self._drop(job)

    def hand_over(self, job: _Job, handle: asyncio.Handle) -> None:
        """``call_soon_threadsafe`` from ``job``'s thread: held back until the next flush."""
        with self._lock:
            job.handoffs.append(handle)
            self._dirty = True
            self._notify()

    # ------------------------------------------------------------ waiting in a job
    def pause(self, job: _Job, seconds: float | None, on: str, *,
              future: concurrent.futures.Future[Any] | None = None,
              thread: threading.Thread | None = None) -> bool:
        """``job``'s thread waits ``seconds`` of virtual time (None: no deadline), or until
        ``future`` is done or ``thread`` has ended. False if it did not (the run is closing, or
        the loop's thread is stuck): the caller then waits for real.

        The job keeps holding the clock until what ends its wait is hooked up, so that nothing
        can happen in between.
        """
        with self._lock:
            if self._closing or job.state != "working":
                return False
            job.token += 1
            token = job.token
            job.fired = False
            job.woken.clear()
        target = self.joined(thread) if thread is not None else None
        if future is not None:
            future.add_done_callback(lambda _: self._resume_if(job, token))
        with self._lock:
            if target is not None:
                if target.state == "done":
                    return True
                target.joiners.append((job, token))
            if job.fired:
                return True
            job.wake = None if seconds is None else self.loop.time() + seconds
            job.on = on
            job.external = (future is not None and not self._owns(future)) or (
                thread is not None and target is None)
            self._set(job, "waiting")
        rounds = self.rounds
        while not job.woken.wait(RESCUE):
            if rounds == self.rounds and not self.attentive:  # the loop's thread is stuck
                with self._lock:
                    self._resume(job)
                return False
            rounds = self.rounds
        return True

    def joined(self, thread: threading.Thread) -> _Job | None:
        """The job of ``thread`` if it is one of this run's threads."""
        job = getattr(thread, "_asyncourse_job", None)
        return job if isinstance(job, _Job) and self.live.get(job.seq) is job else None

    def owes(self, thread: threading.Thread) -> bool:
        """Whether ``thread`` runs, or will run, a job of this run (a worker of its pools)."""
        with self._lock:
            for job in self.live.values():
                if job.state == "done":
                    continue
                if job.thread is thread:
                    return True
                pool = job.pool
                if pool is not None and thread in getattr(pool.executor, "_threads", ()):
                    return True
            return False

    def owns(self, fut: concurrent.futures.Future[Any]) -> bool:
        """Whether ``fut`` is the outcome of one of this run's jobs, still to come."""
        with self._lock:
            return self._owns(fut)

    def _owns(self, fut: concurrent.futures.Future[Any]) -> bool:
        return any(j.outcome is fut for j in self.live.values() if j.state != "done")

    # ------------------------------------------------------------ internals
    def _pool(self, executor: concurrent.futures.Executor) -> _Pool:
        pool = self._pools.get(id(executor))
        if pool is None or pool.executor is not executor:
            size = None
            if (isinstance(executor, concurrent.futures.ThreadPoolExecutor)
                    and type(executor).__name__ != "InterpreterPoolExecutor"):
                size = int(getattr(executor, "_max_workers", 0)) or None
            pool = self._pools[id(executor)] = _Pool(executor, size)
        return pool

    def _run(self, job: _Job, func: Callable[..., Any], args: tuple[Any, ...],
             kwargs: dict[str, Any]) -> None:
        """In a worker thread: the job itself. Its outcome is set while it still holds the
        clock, so whatever that outcome wakes is already working when the job stops."""
        outcome = job.outcome
        assert outcome is not None
        if not outcome.set_running_or_notify_cancel():
            return  # cancelled while queued: already done
        with self._lock:
            job.thread = threading.current_thread()
            job.started = self.loop.time()
            pool = job.pool
            if job.state == "queued" and pool is not None:  # a worker freed by other work
                pool.queue.remove(job)
                pool.busy += 1
            self._set(job, "working")
        _local.jobs, _local.job = self, job
        try:
            value = func(*args, **kwargs)
        except BaseException as exc:
            outcome.set_exception(exc)
        else:
            outcome.set_result(value)
        finally:
            _local.jobs = _local.job = None
            self._finish(job)

    def _cancelled(self, job: _Job) -> None:
        """The outcome was cancelled before the job ran: it is done, its worker free."""
        with self._lock:
            if job.state in ("queued", "starting"):
                self._done(job)

    def _finish(self, job: _Job) -> None:
        with self._lock:
            self._done(job)

    def _done(self, job: _Job) -> None:
        if job.state == "done":
            return
        for waiter, token in job.joiners:
            if waiter.token == token:
                self._resume(waiter)
        job.joiners.clear()
        pool, previous = job.pool, job.state
        self._set(job, "done")
        self._dirty = True
        if pool is not None and pool.size is not None:
            if previous == "queued":
                pool.queue.remove(job)
            else:
                pool.busy -= 1
            while pool.queue and pool.busy < pool.size:  # the next in line gets the worker
                pool.busy += 1
                self._set(pool.queue.popleft(), "starting")

    def _drop(self, job: _Job) -> None:
        self._done(job)
        self.live.pop(job.seq, None)
        if job.result is not None:
            self._results.pop(job.result, None)

    def _add(self, job: _Job, state: State) -> None:
        self.live[job.seq] = job
        self._set(job, state)

    def _set(self, job: _Job, state: State) -> None:
        self._holding += (state in _HOLDING) - (job.state in _HOLDING)
        job.state = state
        if state in _HOLDING:
            job.since = time.monotonic()
        self._notify()

    def _resume_if(self, job: _Job, token: int) -> None:
        with self._lock:
            if job.token == token:
                job.fired = True
                self._resume(job)

    def _resume(self, job: _Job) -> None:
        if job.state == "waiting":
            self._set(job, "working")
            job.woken.set()

    def _notify(self) -> None:
        self.changes += 1
        self._changed.notify_all()
        if self._loop_waits:
            self._loop_waits = False
            self.loop._write_to_self()


def _deliver(job: _Job) -> None:
    result, outcome = job.result, job.outcome
    job.result = None  # the job no longer keeps the future alive
    if result is None or outcome is None or result.done():
        return
    if outcome.cancelled():
        result.cancel()
    elif (exc := outcome.exception()) is not None:
        result.set_exception(exc)
    else:
        result.set_result(outcome.result())


def _name(func: Callable[..., Any]) -> str:
    """``legacy_read``; for ``to_thread``'s ``partial(ctx.run, f, ...)``, ``f``'s name."""
    inner = getattr(func, "func", None)
    if inner is not None and getattr(inner, "__name__", "") == "run":  # Context.run
        fargs = getattr(func, "args", ())
        func = fargs[0] if fargs else func
    return str(getattr(func, "__qualname__", None) or getattr(func, "__name__", None)
               or type(func).__name__).rsplit("<locals>.", 1)[-1]


def sleep_in_job(seconds: float) -> bool:
    """``time.sleep`` in a thread of a virtual run: a wait in virtual time. False if this
    thread is no job of a run (then the sleep is real)."""
    job, jobs = current_job(), context()
    if job is None or jobs is None:
        return False
    if seconds > 0:
        jobs.pause(job, seconds, f"time.sleep({seconds:g})")
    return True
