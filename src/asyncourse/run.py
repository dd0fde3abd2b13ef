"""Running a coroutine with the recorder and the detectors: in virtual time or on the live loop.

``run_virtual`` is ``asyncio.run`` on a ``VirtualEventLoop``. Inside a Jupyter cell a loop is
already running on the kernel's thread and must not be touched, so the run happens on a fresh
loop in a helper thread while the cell waits (about a millisecond of overhead). That also works
after ``nest_asyncio.apply()``, which patches loop classes but not a loop in another thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import reprlib
import threading
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .clock import VirtualEventLoop
from .detect import Finding, Watch, secs
from .errors import RunError
from .record import Recorder, Recording, display_name

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["Run", "run_real", "run_virtual"]


@dataclass
class Run:
    """What one run gave: its result, elapsed seconds, timeline recording and findings.

    >>> import asyncio
    >>> run = run_virtual(asyncio.sleep, 2, "done")
    >>> run.result, run.elapsed
    ('done', 2.0)
    """

    result: Any
    elapsed: float
    recording: Recording
    findings: list[Finding] = field(default_factory=list)
    error: BaseException | None = None
    virtual: bool = True

    def plot(self, *, title: str | None = None) -> Figure:
        """Draw this run's timeline (see ``plot_timeline``)."""
        from .plot import plot_timeline

        return plot_timeline(self, title=title)

    def messages(self) -> list[str]:
        """The findings as learner-facing sentences, repeated calls merged."""
        return [f.message for f in merge_findings(self.findings)]

    def __repr__(self) -> str:
        clock = "virtual" if self.virtual else "real"
        outcome = f"error={self.error!r}" if self.error else f"result={reprlib.repr(self.result)}"
        return (f"<Run {outcome} elapsed={secs(self.elapsed)} s ({clock}) "
                f"tasks={len(self.recording.tasks)} findings={len(self.findings)}>")


def merge_findings(findings: list[Finding]) -> list[Finding]:
    """One finding per place: repeated ``time.sleep`` calls at one line are summed."""
    groups: dict[tuple[str, str, int | None], list[Finding]] = {}
    for f in findings:
        timed = f.kind == "blocking-call" and f.seconds > 0
        what = f.message.split(" by ", 1)[1] if timed else f.message
        groups.setdefault((f.kind, what, f.line), []).append(f)
    merged = []
    for (kind, what, _), group in groups.items():
        first = group[0]
        if len(group) > 1 and kind == "blocking-call" and first.seconds > 0:
            total = sum(f.seconds for f in group)
            sentence = (f"the event loop was blocked {secs(total)} s in total by {len(group)} "
                        f"calls of {what}")
            first = Finding("blocking-call", sentence, first.task, first.line, total)
        merged.append(first)
    return merged


def _coroutine(main: Any, args: tuple[Any, ...],
               kwargs: dict[str, Any]) -> Coroutine[Any, Any, Any]:
    if inspect.iscoroutine(main):
        if args or kwargs:
            raise TypeError("pass arguments to the coroutine function, not to a coroutine object")
        return main
    if callable(main):
        made = main(*args, **kwargs)
        if inspect.iscoroutine(made):
            return made
        name = getattr(main, "__name__", repr(main))
        raise TypeError(f"`{name}` is not a coroutine function (define it with `async def`): "
                        f"calling it returned {reprlib.repr(made)}")
    raise TypeError(f"expected a coroutine or a coroutine function, got {main!r}")


def _name(main: Any) -> str:
    return str(getattr(main, "__qualname__", None) or getattr(main, "__name__", "main"))


def run_virtual(main: Callable[..., Any] | Coroutine[Any, Any, Any], *args: Any,
                limit: float = 3600.0, max_steps: int = 100_000, raise_errors: bool = True,
                thorough: bool = False, **kwargs: Any) -> Run:
    """Run ``main`` (a coroutine, or a coroutine function and its arguments) in virtual time.

    Timers fire at once in wall time, but in order and at their virtual instant, so a program
    that sleeps an hour finishes in milliseconds and reports ``elapsed == 3600.0``.
    ``thorough=True`` also finds never-awaited coroutines that survived in old objects or
    reference cycles, at the cost of a full garbage collection (10-100 ms).

    >>> import asyncio
    >>> async def main():
    ...     await asyncio.gather(asyncio.sleep(1), asyncio.sleep(3))
    >>> run_virtual(main).elapsed
    3.0
    """
    __tracebackhide__ = True  # IPython shows the learner's frames, not these
    if _loop_running_here():
        box: dict[str, Any] = {}

        def work() -> None:
            try:
                box["run"] = _run_here(main, args, kwargs, limit, max_steps, thorough)
            except BaseException as exc:  # handed to the caller's thread below
                box["error"] = exc

        helper = threading.Thread(target=work, name="asyncourse-virtual-run")
        helper.start()
        helper.join()
        if "error" in box:
            raise box["error"]
        run: Run = box["run"]
    else:
        run = _run_here(main, args, kwargs, limit, max_steps, thorough)
    if raise_errors and run.error is not None:
        raise run.error
    return run


def _loop_running_here() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def _run_here(main: Any, args: tuple[Any, ...], kwargs: dict[str, Any], limit: float,
              max_steps: int, thorough: bool) -> Run:
    __tracebackhide__ = True
    loop = VirtualEventLoop(limit=limit, max_steps=max_steps)
    recorder = Recorder(loop.time, loop.is_thread_future, loop.thread_started)
    recorder.install(loop)
    loop.describe_waiting = recorder.waiting
    previous = _current_policy_loop()
    asyncio.set_event_loop(loop)
    result: Any = None
    error: BaseException | None = None
    try:
        with Watch(loop, recorder, virtual=True, main=main, thorough=thorough) as watch:
            coro = _coroutine(main, args, kwargs)
            try:
                result = loop.run_until_complete(coro)
            except BaseException as exc:  # the learner's error is part of the result
                error = exc
            elapsed = loop.time()
            if error is None:
                watch.note_lost_tasks(display_name(_name(coro)))
            recorder.uninstall(loop)
            _finish(loop)
            _scan_result(result, watch)
        return Run(result, elapsed, recorder.recording(elapsed), watch.findings, error)
    finally:
        loop.close()
        asyncio.set_event_loop(previous)


def _current_policy_loop() -> asyncio.AbstractEventLoop | None:
    policy = asyncio.get_event_loop_policy()
    local = getattr(policy, "_local", None)
    return getattr(local, "_loop", None)


def _finish(loop: VirtualEventLoop) -> None:
    """Cancel what is left, as ``asyncio.run`` does, without letting it hang the run."""
    loop._steps = 0  # a run stopped for spinning still gets its cleanup steps
    pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
    for task in pending:
        task.cancel()
    with contextlib.suppress(RunError, Exception):
        loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
    closing = loop.shutdown_asyncgens()
    try:
        loop.run_until_complete(closing)
    except (RunError, Exception):
        closing.close()  # never started: not a coroutine the learner forgot
    if loop.jobs.live:  # asyncio.run waits for the default executor's threads; so does the
        # run, in virtual time, but not for a thread that never stops or waits forever
        loop.wait_for_threads = False
        draining = loop.shutdown_default_executor()
        try:
            loop.run_until_complete(draining)
        except (RunError, Exception):
            draining.close()
    executor = loop._default_executor
    if executor is not None:
        executor.shutdown(wait=False, cancel_futures=True)


def _scan_result(result: Any, watch: Watch, depth: int = 0) -> None:
    """A coroutine object inside the result is an ``await`` that was forgotten."""
    if depth > 3:
        return
    if inspect.iscoroutine(result):
        watch._check_coroutine(result)
        return
    if isinstance(result, list | tuple | set):
        for item in list(result)[:1000]:
            _scan_result(item, watch, depth + 1)
    elif isinstance(result, dict):
        for item in list(result.values())[:1000]:
            _scan_result(item, watch, depth + 1)


async def run_real(main: Callable[..., Any] | Coroutine[Any, Any, Any], *args: Any,
                   raise_errors: bool = True, **kwargs: Any) -> Run:
    """Run ``main`` on the running loop in real time, recorded and watched.

    For a notebook cell: ``run = await run_real(main)``; ``run.elapsed`` is in real seconds.
    """
    loop = asyncio.get_running_loop()
    recorder = Recorder(loop.time)
    recorder.install(loop)
    old_handler = loop.get_exception_handler()
    result: Any = None
    error: BaseException | None = None
    started = loop.time()
    try:
        with Watch(loop, recorder, virtual=False, main=main) as watch:
            coro = _coroutine(main, args, kwargs)
            task = loop.create_task(coro)
            try:
                result = await task
            except BaseException as exc:  # the learner's error is part of the result
                error = exc
            elapsed = loop.time() - started
            if error is None:
                watch.note_lost_tasks(display_name(_name(coro)))
    finally:
        recorder.uninstall(loop)
        loop.set_exception_handler(old_handler)
    run = Run(result, elapsed, recorder.recording(elapsed), watch.findings, error, virtual=False)
    if raise_errors and error is not None:
        raise error
    return run
