"""Property checks for hidden tests: grade what a question states, not one schedule.

A question such as "never more than ``limit`` fetches at once, and start the next one as soon as
one finishes" allows many schedules (the waiting fetches may start in any order), and they end at
different times. So instead of one total time, these checks look at each piece of work (a
``Job``: when it could have started, when it started, when it ended) and fail, in one sentence
naming the moment, when

- more than ``limit`` jobs ran at the same moment (``expect_slots``), or
- a slot sat idle while a job was waiting to start (``expect_slots``: *work-conserving*), or
- a piece of work the answer had to do never ran, or ran twice (``expect_calls``): an answer
  that imitates the results and timing without calling the provided coroutine earns nothing.

Jobs come from the recording (``calls``: every ``asyncio.sleep`` a provided coroutine such as
``fetch`` waited on, the one thing it does) or from a provided fake that knows what was waiting
(a fake web site knows when a link to a page was first handed out).

>>> jobs = [Job("`fetch(1.0)`", 0.0, 1.0), Job("`fetch(2.0)`", 0.0, 2.0),
...         Job("`fetch(1.0)`", 2.0, 3.0)]
>>> expect_slots(jobs, 2, what="fetches")
Traceback (most recent call last):
...
asyncourse.grading.GradingFailure: at 1.0 s one of the 2 slots sat idle while `fetch(1.0)` was \
waiting to start (it started only at 2.0 s): start the next one as soon as one finishes
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import NamedTuple

from .grading import GradingFailure
from .record import Recording
from .run import Run

__all__ = ["Job", "calls", "expect_calls", "expect_slots", "slot_problem"]

_DIGITS = 9  # times are compared after rounding: virtual times are sums of the same floats


class Job(NamedTuple):
    """One piece of work: its label, when it ran, and since when it could have run.

    ``seconds`` is how long it takes when it runs to the end (None: unknown).

    >>> Job("`fetch(1.0)`", 2.0, 3.0, ready=0.0, seconds=1.0).finished
    True
    """

    label: str
    start: float
    end: float
    ready: float = 0.0
    seconds: float | None = None

    @property
    def finished(self) -> bool:
        """Whether it ran for all of its ``seconds`` (a cancelled one ends early)."""
        return self.seconds is None or self.end - self.start >= self.seconds - 1e-9


def calls(run: Run | Recording, name: str, *, label: str = "`{name}({seconds})`") -> list[Job]:
    """Every wait on ``asyncio.sleep`` inside a coroutine called ``name``, as a Job, by start.

    A provided coroutine such as ``fetch(d)`` does its work by sleeping ``d`` seconds, so each of
    its calls shows in the recording as a "timer" interval whose detail is
    ``"fetch: asyncio.sleep(1.0)"``, whichever task awaited it. ``label`` formats each job's
    name from ``name`` and ``seconds`` (the sleep's argument as written). Ready at 0.0.
    """
    recording = run.recording if isinstance(run, Run) else run
    pattern = re.compile(rf"{re.escape(name)}: asyncio\.sleep\((?P<arg>[^()]*)\)$")
    found = []
    for task in recording.tasks:
        for interval in task.intervals:
            match = pattern.match(interval.detail) if interval.kind == "timer" else None
            if match is None:
                continue
            arg = match.group("arg")
            try:
                seconds: float | None = abs(float(arg))
            except ValueError:
                seconds = None
            found.append(Job(label.format(name=name, seconds=arg), interval.start, interval.end,
                             0.0, seconds))
    return sorted(found, key=lambda j: (j.start, j.end))


def _key(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds, _DIGITS)


def _s(x: float) -> str:
    return f"{x:.1f}" if abs(x - round(x, 1)) < 1e-9 else f"{x:g}"


def expect_calls(run: Run | Recording, name: str, durations: Iterable[float], *,
                 what: str | None = None, finished: bool = True,
                 label: str = "`{name}({seconds})`") -> list[Job]:
    """Fail unless ``name`` was called once for each of ``durations``; return those calls.

    With ``finished=True`` (the default) each call must have run to its end; with False a call
    that was started and then cancelled counts too (an answer that cancels the slower ones).

    >>> import asyncio
    >>> from asyncourse import run_virtual
    >>> async def fetch(d): await asyncio.sleep(d)
    >>> async def imitation(delays): await asyncio.sleep(max(delays))
    >>> expect_calls(run_virtual(imitation, [1.0, 2.0]), "fetch", [1.0, 2.0], what="fetch_all")
    Traceback (most recent call last):
    ...
    asyncourse.grading.GradingFailure: fetch_all never called `fetch`: it must call `fetch` \
for every item (an answer that only imitates the results and the timing does not count)
    """
    made = calls(run, name, label=label)
    counted = [j for j in made if j.finished] if finished else made
    wanted = Counter(_key(abs(d)) for d in durations)
    got = Counter(_key(j.seconds) for j in counted)
    who = what or "the answer"
    ran = "ran to its end" if finished else "was started"
    if not made and wanted:
        raise GradingFailure(
            f"{who} never called `{name}`: it must call `{name}` for every item (an answer "
            "that only imitates the results and the timing does not count)")
    for seconds, count in sorted(wanted.items(), key=lambda kv: kv[0] or 0.0):
        if got[seconds] < count:
            shown = label.format(name=name, seconds=_s(seconds or 0.0))
            raise GradingFailure(
                f"{who}: {shown} {ran} {got[seconds]} time(s) instead of {count}: every "
                f"item's work must really be done by `{name}`")
    extra = got - wanted
    if extra:
        seconds, _ = next(iter(sorted(extra.items(), key=lambda kv: kv[0] or 0.0)))
        shown = label.format(name=name, seconds=_s(seconds or 0.0))
        raise GradingFailure(f"{who} called {shown} {got[seconds]} time(s) instead of "
                             f"{wanted[seconds]}: do each item's work once")
    return counted


def _slots(limit: int, free: int) -> str:
    if limit == 1:
        return "the only slot"
    if free == limit:
        return "both slots" if limit == 2 else f"all {limit} slots"
    return f"{'one' if free == 1 else free} of the {limit} slots"


def slot_problem(jobs: Sequence[Job], limit: int, *, what: str = "jobs",
                 call: str | None = None) -> str | None:
    """The first moment at which ``jobs`` broke the limit or left a slot idle, in a sentence.

    At every moment at most ``limit`` jobs run (a job runs from its start, included, to its end,
    excluded), and whenever fewer run, no job is waiting (ready but not started): a free slot
    is used at once. A job that never ran has ``start == end == math.inf``: it waits for ever.
    None when both hold. ``call`` (e.g. "fetch_limited([1.0], 2)") starts the sentence.
    """
    during = f"{call}: " if call else ""
    spans = [(j.label, round(j.ready, _DIGITS), round(j.start, _DIGITS), round(j.end, _DIGITS))
             for j in jobs]
    moments = {t for _, ready, start, end in spans for t in (ready, start, end) if t < math.inf}
    for t in sorted(moments):
        running = [label for label, _, start, end in spans if start <= t < end]
        if len(running) > limit:
            shown = ", ".join(running[:4]) + (", ..." if len(running) > 4 else "")
            return (f"{during}at {_s(t)} s {len(running)} {what} ran at the same time ({shown}), "
                    f"but at most {limit} may run at once (check where the limit, e.g. the "
                    "Semaphore, is acquired)")
        waiting = sorted((start, label) for label, ready, start, _ in spans if ready <= t < start)
        if waiting and len(running) < limit:
            start, label = waiting[0]
            began = f"it started only at {_s(start)} s" if start < math.inf else "it never started"
            return (f"{during}at {_s(t)} s {_slots(limit, limit - len(running))} sat idle while "
                    f"{label} was waiting to start ({began}): start the next one as soon as one "
                    "finishes")
    return None


def expect_slots(jobs: Sequence[Job], limit: int, *, what: str = "jobs",
                 call: str | None = None) -> None:
    """Fail unless at most ``limit`` jobs ran at once and no slot sat idle while one waited.

    Names the first moment that breaks either rule; when the jobs never overlapped although
    ``limit`` allows it, says that they ran one after another.
    """
    problem = slot_problem(jobs, limit, what=what, call=call)
    if problem is None:
        return
    overlap = _most_at_once(jobs)
    if limit > 1 and overlap <= 1 and len(jobs) > 1 and "sat idle" in problem:
        problem += f" (the {what} ran one after another)"
    raise GradingFailure(problem)


def _most_at_once(jobs: Sequence[Job]) -> int:
    edges = sorted([(round(j.start, _DIGITS), 1) for j in jobs if j.end > j.start]
                   + [(round(j.end, _DIGITS), -1) for j in jobs if j.end > j.start])
    best = current = 0
    for _, step in edges:
        current += step
        best = max(best, current)
    return best
