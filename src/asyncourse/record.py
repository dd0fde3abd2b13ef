"""The timeline recorder: what every Task did, and when, as plain data.

A task factory wraps each Task's coroutine in a thin proxy that notes the loop's time whenever the
Task resumes or suspends it, and what it suspended on (a timer, a thread, another task). This needs
no change to the learner's code and covers ``create_task``, ``gather``, ``TaskGroup`` and the main
coroutine alike. asyncio itself offers no such hook; ``sys.monitoring`` would, but only from
Python 3.12 and not per loop. At each suspension the proxy also reads the chain of coroutines the
task is awaiting (``cr_await``): each awaited call of the learner's own code (``await fetch(1)``)
becomes an ``AwaitedCall`` of its task, since awaited coroutines are no tasks and a sequential run
would otherwise be one solid bar. The data is dataclasses so that tests compare recordings with
``==``.
"""

from __future__ import annotations

import asyncio
import collections.abc
import inspect
import reprlib
import sysconfig
import types
import weakref
from collections.abc import Callable, Coroutine, Generator, Iterator
from dataclasses import dataclass, field
from typing import Any, Literal, NamedTuple

__all__ = ["AwaitedCall", "Interval", "Kind", "Recorder", "Recording", "TaskRecord"]

Kind = Literal["pending", "running", "timer", "thread", "waiting", "blocked"]
KINDS: tuple[Kind, ...] = ("pending", "running", "timer", "thread", "waiting", "blocked")

_short = reprlib.Repr()
_short.maxstring = 24
_short.maxother = 24
_short.maxlist = 4
_short.maxdict = 3


class Interval(NamedTuple):
    """A stretch of (virtual or real) time a task spent in one state.

    A named tuple rather than a dataclass: a busy run makes tens of thousands of them.

    >>> Interval("timer", 0.0, 1.5, "asyncio.sleep(1.5)").duration
    1.5
    """

    kind: Kind
    start: float
    end: float
    detail: str = ""

    @property
    def duration(self) -> float:
        """Length of the interval in seconds."""
        return self.end - self.start


@dataclass
class AwaitedCall:
    """A coroutine of the learner's own code that a task awaited, such as ``await fetch(1)``.

    Awaiting a coroutine runs it inside the awaiting task, so it is no task of its own; the
    recorder still notes each such call, to draw it as a row under its task. ``depth`` 1 is a
    call the task's coroutine awaited itself, 2 a call awaited inside a depth-1 call, and so on.
    A call is seen when the task suspends inside it: ``start`` is the moment the step that
    entered it began, ``end`` the moment the step that left it began (None while it runs). In
    virtual time, where code takes no time, both are exact; a call that never suspends is not
    recorded (it took no time to wait). asyncio's own coroutines, the standard library's and
    installed packages' are not calls of the learner's code and are skipped.

    >>> AwaitedCall("fetch(1)", "fetch", 1, 0.0, 1.0).duration
    1.0
    """

    label: str
    name: str
    depth: int
    start: float
    end: float | None = None

    @property
    def duration(self) -> float:
        """Seconds from start to end (0.0 while the call has not ended)."""
        return 0.0 if self.end is None else self.end - self.start


@dataclass
class TaskRecord:
    """One Task of a run: its label, life span, the intervals it went through, and the
    coroutines it awaited (``calls``, in the order they started).

    >>> rec = TaskRecord(label="fetch(1)", name="fetch", created=0.0)
    >>> rec.state, rec.calls
    ('pending', [])
    """

    label: str
    name: str
    created: float
    started: float | None = None
    ended: float | None = None
    state: Literal["pending", "done", "failed", "cancelled"] = "pending"
    intervals: list[Interval] = field(default_factory=list)
    calls: list[AwaitedCall] = field(default_factory=list)

    def time_in(self, kind: Kind) -> float:
        """Total seconds this task spent in intervals of ``kind``."""
        return sum(i.duration for i in self.intervals if i.kind == kind)

    def call_intervals(self, call: AwaitedCall) -> list[Interval]:
        """What this task did while ``call`` was in progress: its intervals, cut to the call.

        A call that has not ended runs to the task's last interval.
        """
        end = call.end
        if end is None:
            end = max((i.end for i in self.intervals), default=call.start)
        return [Interval(i.kind, max(i.start, call.start), min(i.end, end), i.detail)
                for i in self.intervals if i.end > call.start and i.start < end]


@dataclass
class Recording:
    """Every task of one run, in creation order, and the run's elapsed time.

    >>> Recording(tasks=[], elapsed=0.0).max_concurrent("timer")
    0
    """

    tasks: list[TaskRecord]
    elapsed: float

    def task(self, name: str) -> TaskRecord:
        """The first task whose coroutine is called ``name`` (or whose label is ``name``)."""
        for rec in self.tasks:
            if name in (rec.name, rec.label):
                return rec
        names = ", ".join(sorted({r.name for r in self.tasks})) or "none"
        raise KeyError(f"no task runs a coroutine called {name!r} (tasks: {names})")

    def intervals(self, kind: Kind) -> list[tuple[str, Interval]]:
        """All intervals of ``kind`` as ``(task label, interval)`` pairs, by start time."""
        found = [(r.label, i) for r in self.tasks for i in r.intervals if i.kind == kind]
        return sorted(found, key=lambda pair: (pair[1].start, pair[1].end))

    def max_concurrent(self, kind: Kind = "timer") -> int:
        """The largest number of tasks in an interval of ``kind`` at the same instant.

        Intervals are half-open, so one that ends at t and one that starts at t do not overlap.
        Zero-length intervals are ignored.
        """
        edges: list[tuple[float, int]] = []
        for rec in self.tasks:
            for span in _merged(rec.intervals, kind):
                edges += [(span[0], 1), (span[1], -1)]
        best = current = 0
        for _, step in sorted(edges):  # at equal times the -1 sorts first: half-open
            current += step
            best = max(best, current)
        return best


def _merged(intervals: list[Interval], kind: Kind) -> list[tuple[float, float]]:
    spans = sorted((i.start, i.end) for i in intervals if i.kind == kind and i.end > i.start)
    merged: list[tuple[float, float]] = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def display_name(qualname: str) -> str:
    """A function's name as its author wrote it: ``Crawler.fetch``, not ``main.<locals>.fetch``."""
    return qualname.rsplit("<locals>.", 1)[-1]


def label_of(coro: Any) -> tuple[str, str]:
    """``(name, label)`` of a coroutine object that has not started: ``("fetch", "fetch(1)")``."""
    name = display_name(getattr(coro, "__qualname__", None) or type(coro).__name__)
    frame = getattr(coro, "cr_frame", None)
    code = getattr(coro, "cr_code", None)
    if frame is None or code is None:
        return name, f"{name}()"
    count = code.co_argcount + code.co_kwonlyargcount
    values = frame.f_locals
    shown = [_arg(values[a]) for a in code.co_varnames[:count] if a in values and a != "self"]
    if code.co_flags & inspect.CO_VARARGS:
        shown += [_arg(v) for v in values.get(code.co_varnames[count], ())]
    return name, f"{name}({', '.join(shown)})"


def _arg(value: object) -> str:
    """An argument as a label shows it: functions by name, other values by a short repr."""
    if callable(value) and hasattr(value, "__qualname__") and not isinstance(value, type):
        return display_name(value.__qualname__)
    return _short.repr(value)


_SLEEP_CODE = asyncio.sleep.__code__
_NOT_LEARNER = tuple(
    {sysconfig.get_paths()["stdlib"], sysconfig.get_paths()["platstdlib"],
     __file__.rsplit("/", 1)[0]})


def _learner_code(code: types.CodeType | None) -> bool:
    """Code the learner wrote: not asyncio's, the standard library's, a package's or ours."""
    if code is None:
        return False
    filename = code.co_filename
    return not filename.startswith(_NOT_LEARNER) and "site-packages" not in filename


def awaited_chain(coro: Any) -> list[Any]:
    """The learner's coroutines that ``coro`` is awaiting right now, outermost first.

    ``coro`` itself (a task's coroutine) is not included.
    """
    chain = []
    inner = getattr(coro, "cr_await", None)
    while isinstance(inner, types.CoroutineType):
        code = inner.cr_code
        # before 3.12 a comprehension with `await` is a coroutine of its own: part of its caller
        if _learner_code(code) and code.co_name not in _COMPREHENSIONS:
            chain.append(inner)
        inner = inner.cr_await
    return chain


_COMPREHENSIONS = frozenset({"<listcomp>", "<setcomp>", "<dictcomp>", "<genexpr>"})
_TO_THREAD_CODE = asyncio.to_thread.__code__


def classify(coro: Any, yielded: object, thread_futures: Callable[[object], bool],
             codes: list[tuple[Any, Any]] | None = None) -> tuple[Kind, str]:
    """What a task suspended on: an interval kind and a detail ("fetch: asyncio.sleep(1)").

    `codes` (the task's own list, kept between its steps) remembers the code of each coroutine
    of the last chain of awaits: reading ``cr_code`` is an audit event, and a task that loops
    awaits the same coroutines step after step.
    """
    last = user = None
    code = None
    inner = coro
    seen: list[tuple[Any, Any]] = []
    while isinstance(inner, _COROUTINES):  # follow the chain of awaits down to the bottom
        last = inner
        depth = len(seen)
        if codes is not None and depth < len(codes) and codes[depth][0] is inner:
            code = codes[depth][1]
        else:
            code = inner.cr_code
        seen.append((inner, code))
        if code is not None and not code.co_filename.startswith(_ASYNCIO_DIR):
            user = inner
        inner = inner.cr_await
    if codes is not None:
        codes[:] = seen
    where = f"{display_name(user.__qualname__)}: " if user is not None else ""
    code = code if last is not None else None
    if yielded is None:
        return "pending", f"{where}yielded to the loop"
    if code is _SLEEP_CODE and last is not None:
        frame = last.cr_frame
        delay = frame.f_locals.get("delay") if frame is not None else None
        shown = repr(delay) if type(delay) in (int, float) else _short.repr(delay)
        return "timer", f"{where}asyncio.sleep({shown})"
    if code is _TO_THREAD_CODE or thread_futures(yielded):
        return "thread", f"{where}waiting for a thread"
    if isinstance(yielded, asyncio.Task):
        return "waiting", f"{where}awaiting task {_task_label(yielded)}"
    if last is not None and _library_code(code):
        what = f"{display_name(getattr(last, '__qualname__', '?'))}()"
    else:
        what = type(yielded).__name__
    return "waiting", f"{where}awaiting {what}"


def _library_code(code: types.CodeType | None) -> bool:
    return code is not None and code.co_filename.startswith(_ASYNCIO_DIR)


_ASYNCIO_DIR = asyncio.__file__.rsplit("/", 1)[0]


def _third_party(coro: types.CoroutineType[Any, Any, Any]) -> bool:
    """A library's internal task (httpx's, anyio's): not drawn, it is not the learner's work."""
    return "site-packages" in coro.cr_code.co_filename


def _task_label(task: asyncio.Task[Any]) -> str:
    coro = task.get_coro()
    return coro.label if isinstance(coro, _Traced) else task.get_name()


class _Traced(collections.abc.Coroutine[Any, Any, Any]):
    """A coroutine proxy that reports each resume and suspend of its Task to the recorder."""

    __slots__ = ("_calls", "_codes", "_coro", "_on", "_record", "_recorder", "_suspended",
                 "label")

    def __init__(self, coro: Coroutine[Any, Any, Any], recorder: Recorder, rec: TaskRecord) -> None:
        self._coro = coro
        self._recorder = recorder
        self._record = rec
        self._suspended: Interval = Interval("pending", rec.created, rec.created, "created")
        self._calls: list[tuple[Any, AwaitedCall]] = []  # the calls in progress, outermost first
        self._codes: list[tuple[Any, Any]] = []  # the last chain of awaits and their code
        self._on: object = None  # the thread job's future it waits for
        self.label = rec.label

    def send(self, value: Any) -> Any:
        __tracebackhide__ = True  # IPython shows the learner's frames, not the proxy's
        return self._step(self._coro.send, value)

    def throw(self, typ: Any, val: Any = None, tb: Any = None) -> Any:
        __tracebackhide__ = True
        if val is None and tb is None:
            return self._step(self._coro.throw, typ)
        return self._step(lambda v: self._coro.throw(typ, val, tb), None)

    def close(self) -> None:
        self._coro.close()

    def __await__(self) -> Generator[Any, None, Any]:
        return self._coro.__await__()

    def _step(self, advance: Callable[[Any], Any], value: Any) -> Any:
        __tracebackhide__ = True
        rec, now = self._record, self._recorder.now()
        if rec.started is None:
            rec.started = now
        self._close_suspension(now)
        mark = len(rec.intervals)  # what this step adds from here on: blocked intervals
        outer, self._recorder.current = self._recorder.current, rec
        try:
            yielded = advance(value)
        except StopIteration:
            self._finish("done", now, mark)
            raise
        except asyncio.CancelledError:
            self._finish("cancelled", now, mark)
            raise
        except BaseException:
            self._finish("failed", now, mark)
            raise
        finally:
            self._recorder.current = outer
        self._close_running(now, mark)
        self._follow_calls(awaited_chain(self._coro), now)
        kind, detail = classify(self._coro, yielded, self._recorder.is_thread_future,
                                self._codes)
        self._suspended = Interval(kind, self._recorder.now(), 0.0, detail)
        self._on = yielded if kind == "thread" else None
        return yielded

    def _follow_calls(self, chain: list[Any], began: float) -> None:
        """End the calls no longer awaited and open the new ones, at the step's start."""
        keep = 0
        for (coro, _), current in zip(self._calls, chain, strict=False):
            if coro is not current:
                break
            keep += 1
        for _, call in self._calls[keep:]:
            call.end = began
        del self._calls[keep:]
        for depth, coro in enumerate(chain[keep:], start=keep + 1):
            name, label = label_of(coro)
            call = AwaitedCall(label, name, depth, began)
            self._record.calls.append(call)
            self._calls.append((coro, call))

    def waiting_on(self) -> str:
        """What the task is suspended on, in words: "fetch: asyncio.sleep(1)"."""
        detail = self._suspended.detail
        return detail.split(": ", 1)[1] if ": " in detail else detail or "not started"

    def _close_suspension(self, now: float) -> None:
        s = self._suspended
        if now <= s.start:
            return
        started = self._recorder.thread_started(self._on) if self._on is not None else None
        if started is not None and started > s.start:  # first queued for a busy pool
            queued = s.detail.replace("waiting for a thread", "waiting for a free worker thread")
            self._record.intervals.append(Interval("waiting", s.start, min(started, now), queued))
            if now > started:
                self._record.intervals.append(Interval(s.kind, started, now, s.detail))
            return
        self._record.intervals.append(Interval(s.kind, s.start, now, s.detail))

    def _close_running(self, began: float, mark: int) -> None:
        """Record the step that began at ``began`` as running, around its blocked intervals."""
        now, intervals = self._recorder.now(), self._record.intervals
        if now == began and len(intervals) == mark:
            return  # the usual virtual-time step: no time passed
        blocked = intervals[mark:]
        del intervals[mark:]
        cursor = began
        for b in sorted(blocked, key=lambda i: (i.start, i.end)):
            if b.start > cursor:
                intervals.append(Interval("running", cursor, b.start))
            intervals.append(b)
            cursor = max(cursor, b.end)
        if now > cursor:
            intervals.append(Interval("running", cursor, now))

    def _finish(self, state: Literal["done", "failed", "cancelled"], began: float,
                mark: int) -> None:
        rec = self._record
        rec.ended = self._recorder.now()
        rec.state = state
        self._close_running(began, mark)
        self._follow_calls([], began)

    # What asyncio and inspect read from a coroutine, delegated so Task reprs stay informative.
    @property
    def cr_frame(self) -> Any:
        return getattr(self._coro, "cr_frame", None)

    @property
    def cr_code(self) -> Any:
        return getattr(self._coro, "cr_code", None)

    @property
    def cr_await(self) -> Any:
        return getattr(self._coro, "cr_await", None)

    @property
    def cr_running(self) -> bool:
        return bool(getattr(self._coro, "cr_running", False))

    def __getattr__(self, name: str) -> Any:  # __qualname__, __name__ and the like
        if name.startswith("__") and name in ("__qualname__", "__name__"):
            return getattr(self._coro, name)
        raise AttributeError(name)

    def __repr__(self) -> str:
        return f"<traced {self._coro!r}>"


class Recorder:
    """Collects a ``TaskRecord`` for each Task the loop creates while it is installed.

    ``install(loop)`` sets a task factory; ``recording()`` returns what was seen so far.

    >>> import asyncio
    >>> loop = asyncio.new_event_loop()
    >>> recorder = Recorder(loop.time); recorder.install(loop)
    >>> async def hello(): return "hi"
    >>> loop.run_until_complete(hello())
    'hi'
    >>> [t.label for t in recorder.recording().tasks]
    ['hello()']
    >>> loop.close()
    """

    def __init__(self, clock: Callable[[], float],
                 is_thread_future: Callable[[object], bool] = lambda f: False,
                 thread_started: Callable[[object], float | None] = lambda f: None) -> None:
        self.now = clock
        self.origin = clock()
        self.is_thread_future = is_thread_future
        self.thread_started = thread_started  # when a thread future's job got a worker
        self.tasks: list[TaskRecord] = []
        # weak, as asyncio itself holds tasks: recording must not keep a lost task alive
        self.live: list[weakref.ref[asyncio.Task[Any]]] = []
        self.current: TaskRecord | None = None
        self._previous_factory: Any = None

    def install(self, loop: asyncio.AbstractEventLoop) -> None:
        """Record every Task ``loop`` creates from now on."""
        self._previous_factory = loop.get_task_factory()
        loop.set_task_factory(self._factory)

    def uninstall(self, loop: asyncio.AbstractEventLoop) -> None:
        """Stop recording new Tasks of ``loop``."""
        loop.set_task_factory(self._previous_factory)

    def _factory(self, loop: asyncio.AbstractEventLoop, coro: Any, **kwargs: Any) -> Any:
        if isinstance(coro, types.CoroutineType) and not _third_party(coro):
            name, label = label_of(coro)
            rec = TaskRecord(label=label, name=name, created=self.now())
            self.tasks.append(rec)
            coro = _Traced(coro, self, rec)
        if self._previous_factory is not None:
            task = self._previous_factory(loop, coro, **kwargs)
        else:
            task = asyncio.Task(coro, loop=loop, **kwargs)
        self.live.append(weakref.ref(task))
        return task

    def note_blocked(self, seconds: float, detail: str, *, start: float | None = None) -> None:
        """Record that the running task blocked the loop for ``seconds`` from ``start``.

        ``start`` defaults to now (a call about to block); a call that already returned passes
        the time it began, so the interval is drawn where the loop actually stalled.
        """
        if self.current is not None:
            begin = self.now() if start is None else start
            self.current.intervals.append(Interval("blocked", begin, begin + seconds, detail))

    def waiting(self) -> list[str]:
        """Each unfinished task and what it waits on, for deadlock and lost-task messages."""
        found = []
        for task in self.pending_tasks():
            coro = task.get_coro()
            if isinstance(coro, _Traced):
                found.append(f"`{coro.label}` ({coro.waiting_on()})")
        return found

    def pending_tasks(self) -> Iterator[asyncio.Task[Any]]:
        """Tasks created during the recording that have not finished, in creation order."""
        alive = (ref() for ref in self.live)
        return (t for t in alive if t is not None and not t.done())

    def recording(self, elapsed: float | None = None) -> Recording:
        """A snapshot of what was recorded, with times relative to the start."""
        shift = self.origin
        tasks = [_shifted(r, shift) for r in self.tasks] if shift else list(self.tasks)
        total = elapsed if elapsed is not None else self.now() - shift
        return Recording(tasks=tasks, elapsed=total)


def _shifted(rec: TaskRecord, shift: float) -> TaskRecord:
    def s(t: float | None) -> float | None:
        return None if t is None else t - shift

    return TaskRecord(
        label=rec.label, name=rec.name, created=rec.created - shift, started=s(rec.started),
        ended=s(rec.ended), state=rec.state,
        intervals=[Interval(i.kind, i.start - shift, i.end - shift, i.detail)
                   for i in rec.intervals],
        calls=[AwaitedCall(c.label, c.name, c.depth, c.start - shift, s(c.end))
               for c in rec.calls],
    )


_COROUTINES = (types.CoroutineType, _Traced)
