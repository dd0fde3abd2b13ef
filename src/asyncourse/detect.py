"""Pitfall detectors: never-awaited coroutines, calls that block the loop, lost tasks.

Each finding carries the sentence a learner reads. Why not a library: blockbuster (1.5) detects
blocking calls but, activated process-wide, hangs an ipykernel (the kernel itself calls
``time.sleep``) and it cannot charge a ``time.sleep`` to a virtual clock. Here the patches are
installed for the whole process but act only on a thread that runs a watched loop, and only while
one of the run's tasks executes; every other thread gets the real function.

- ``time.sleep`` on the loop's thread: in virtual time the clock moves by the sleep (the timeline
  shows the stall, nothing else runs meanwhile); in real time it sleeps and is recorded. In an
  executor thread of a virtual loop it is a virtual sleep. ``from time import sleep`` done before
  the run is handled by swapping that name in the learner's module for the run's duration.
- threads of a virtual run (see ``jobs``): ``ThreadPoolExecutor.submit`` and
  ``threading.Thread.start`` called by the run's code make jobs of the run;
  ``concurrent.futures.Future.result`` / ``.exception`` and ``Thread.join`` wait in virtual time,
  on the loop's thread (a stall, recorded when the clock moved) as in a job's thread.
- blocking sockets (``requests``, ``urllib``, ``socket.create_connection``...) on the loop's
  thread while a task runs: recorded with the library call that made them.
- never-awaited coroutines: coroutine-origin tracking is on for the run's thread, so the warning
  (or, for one still referenced or in a cycle, a scan after ``gc.collect()``) names the line that
  created it. Found coroutines are closed, so no stray ``RuntimeWarning`` reaches stderr later.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import gc
import inspect
import socket
import sys
import threading
import time
import types
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Literal

from .errors import DeadlockError
from .jobs import context, current_job, sleep_in_job
from .record import Recorder, display_name

__all__ = ["Finding", "Watch"]

FindingKind = Literal[
    "never-awaited", "blocking-call", "lost-task", "unretrieved-exception", "loop-error"
]

_real_sleep = time.sleep
_real_submit = concurrent.futures.ThreadPoolExecutor.submit
_real_start = threading.Thread.start
_real_join = threading.Thread.join
_real_result = concurrent.futures.Future.result
_real_exception = concurrent.futures.Future.exception
#: Real seconds the loop's thread waits for a future nothing of the run can complete.
FUTURE_PATIENCE = 30.0
_local = threading.local()  # .watch: the Watch of the run this thread's loop is executing
_LIBRARY_DIRS = tuple(
    p for p in {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix} if p
)
_OWN_DIR = __file__.rsplit("/", 1)[0]


@dataclass(frozen=True)
class Finding:
    """A named mistake found during a run.

    >>> f = Finding("never-awaited", "the coroutine `fetch` created at line 3 was never awaited")
    >>> str(f)
    'the coroutine `fetch` created at line 3 was never awaited'
    """

    kind: FindingKind
    message: str
    task: str | None = None
    line: int | None = None
    seconds: float = 0.0

    def __str__(self) -> str:
        return self.message


def _is_library(filename: str) -> bool:
    return (filename.startswith(_LIBRARY_DIRS) or filename.startswith(_OWN_DIR)
            or filename.startswith("<frozen"))


def _learner_frame(frame: types.FrameType | None) -> types.FrameType | None:
    """The nearest frame of learner code: a coroutine, else the first non-library frame."""
    first_user = None
    while frame is not None:
        if not _is_library(frame.f_code.co_filename):
            if frame.f_code.co_flags & inspect.CO_COROUTINE:
                return frame
            first_user = first_user or frame
        frame = frame.f_back
    return first_user


def _library_entry(frame: types.FrameType | None, stop: types.FrameType | None) -> str | None:
    """The outermost library function called from learner code: ``requests.get``."""
    entry = None
    while frame is not None and frame is not stop:
        if _is_library(frame.f_code.co_filename) and "socket" not in frame.f_code.co_filename:
            entry = frame
        frame = frame.f_back
    if entry is None:
        return None
    module = entry.f_globals.get("__name__", "")
    name = getattr(entry.f_code, "co_qualname", entry.f_code.co_name)  # Client.get, not get
    package = module.split(".")[0]
    top = sys.modules.get(package)
    if top is not None and getattr(top, name.split(".")[0], None) is not None:
        return f"{package}.{name}"
    return f"{module}.{name}"


def secs(x: float) -> str:
    """Seconds as a learner reads them: ``1.0``, ``0.25``, ``2.5``."""
    return f"{x:.1f}" if abs(x - round(x, 1)) < 1e-9 else f"{x:g}"


def _where(frame: types.FrameType | None) -> tuple[str, int | None]:
    if frame is None:
        return "", None
    name = display_name(getattr(frame.f_code, "co_qualname", frame.f_code.co_name))
    return f" in `{name}` at line {frame.f_lineno}", frame.f_lineno


# ---------------------------------------------------------------- process-wide patches
_patch_lock = threading.Lock()
_patch_users = 0
_SOCKET_METHODS = ("connect", "connect_ex", "recv", "recv_into", "recvfrom", "send", "sendall",
                   "sendto", "accept", "close")
_saved: dict[str, Any] = {}
_saved_hook: list[Callable[[Any], None]] = []


def _current_watch() -> Watch | None:
    watch: Watch | None = getattr(_local, "watch", None)
    return watch


def patched_sleep(secs: float) -> None:
    """``time.sleep`` while a run is watched: virtual, recorded, or the real one."""
    if not isinstance(secs, int | float) or secs < 0:
        _real_sleep(secs)  # raises the usual TypeError / ValueError
        return
    watch = _current_watch()
    if watch is not None:
        watch.slept(float(secs), sys._getframe(1))
        return
    if not sleep_in_job(float(secs)):
        _real_sleep(secs)


def patched_submit(self: concurrent.futures.ThreadPoolExecutor, fn: Callable[..., Any], /,
                   *args: Any, **kwargs: Any) -> concurrent.futures.Future[Any]:
    """``ThreadPoolExecutor.submit``: from a thread of a virtual run, a job of the run."""
    jobs = context()
    if jobs is None:
        return _real_submit(self, fn, *args, **kwargs)
    return jobs.submit(self, fn, args, kwargs)


def patched_start(self: threading.Thread) -> None:
    """``Thread.start``: a thread the run's own code starts is a job of the run."""
    jobs = context()
    if (jobs is None or self._started.is_set()  # type: ignore[attr-defined]
            or _is_library(sys._getframe(1).f_code.co_filename)):  # a pool's worker...
        _real_start(self)
        return
    jobs.adopt(self)
    try:
        _real_start(self)
    except BaseException:
        jobs.abandon(self)
        raise


def patched_join(self: threading.Thread, timeout: float | None = None) -> None:
    """``Thread.join``: in a virtual run, waits in virtual time for the run's threads."""
    jobs = context()
    if (jobs is None or self is threading.current_thread()
            or not self._started.is_set()):  # type: ignore[attr-defined]
        _real_join(self, timeout)
        return
    target = jobs.joined(self)
    job = current_job()
    if job is not None:  # a thread of the run joins one
        if target is None or (timeout is not None and timeout <= 0):
            _real_join(self, timeout)
        elif jobs.pause(job, timeout, f"`Thread.join()` of {target.name}", thread=self):
            if target.state == "done":
                _real_join(self)  # it is ending: a moment
        else:
            _real_join(self, timeout)
        return

    def ended() -> bool:
        return target.state == "done" if target is not None else not self.is_alive()

    waited = _loop_waits(jobs, ended, timeout, "Thread.join",
                         lambda: target is not None or jobs.owes(self), sys._getframe(1))
    if waited is None:  # nothing of the run ends it: a real wait
        _real_join(self, timeout)
    elif waited:
        _real_join(self)  # it has ended or is ending: a moment


def patched_result(self: concurrent.futures.Future[Any], timeout: float | None = None) -> Any:
    """``Future.result``: in a virtual run, waits in virtual time."""
    return _real_result(self, _future_wait(self, timeout, "Future.result", sys._getframe(1)))


def patched_exception(self: concurrent.futures.Future[Any],
                      timeout: float | None = None) -> BaseException | None:
    """``Future.exception``: in a virtual run, waits in virtual time."""
    return _real_exception(self, _future_wait(self, timeout, "Future.exception",
                                              sys._getframe(1)))


def _future_wait(fut: concurrent.futures.Future[Any], timeout: float | None, what: str,
                 caller: types.FrameType) -> float | None:
    """Wait for ``fut`` as the run's clock says; the timeout left for the real call."""
    jobs = context()
    if jobs is None or fut.done() or (timeout is not None and timeout <= 0):
        return timeout
    job = current_job()
    if job is not None:  # a thread of the run waits
        return 0 if jobs.pause(job, timeout, f"`{what}()`", future=fut) else timeout
    tracked = jobs.owns(fut)
    waited = _loop_waits(jobs, fut.done, timeout, what,
                         lambda: tracked or jobs.next_wake() is not None, caller)
    if waited is not None:
        return 0  # done, or the virtual timeout ran out
    if timeout is not None:
        return timeout
    try:  # nothing of the run completes it: only the outside can, give it time
        _real_exception(fut, FUTURE_PATIENCE)
    except TimeoutError:
        raise jobs.loop.fail(DeadlockError(
            f"the event loop has waited {FUTURE_PATIENCE:g} real seconds in `{what}()` for a "
            "future that no task, timer or thread of the program completes: the program would "
            "wait forever")) from None
    return 0


def _loop_waits(jobs: Any, done: Callable[[], bool], timeout: float | None, what: str,
                owed: Callable[[], bool], caller: types.FrameType) -> bool | None:
    """The loop's thread blocks in ``what``: wait in virtual time. True: done; False: the
    timeout ran out; None: nothing of the run can end the wait (wait for real). A wait that
    moved the clock is a blocking call."""
    loop = jobs.loop
    before = loop.time()
    try:
        return loop.wait_blocked(done, timeout=timeout, owed=owed, what=what)  # type: ignore[no-any-return]
    finally:
        watch = _current_watch()
        if loop.time() > before and watch is not None:
            watch.blocked_waiting(what, loop.time() - before, caller)


def _never_awaited(coro: Any) -> None:
    """CPython calls ``warnings._warn_unawaited_coroutine`` when a never-started coroutine is
    freed; on a watched thread that becomes a finding, which warning filters cannot hide."""
    watch = _current_watch()
    if watch is not None and getattr(coro, "cr_origin", None) is not None:
        watch.discarded(coro)
    else:
        _saved_hook[0](coro)


patched_sleep.__name__ = patched_sleep.__qualname__ = "sleep"


def _socket_wrapper(name: str, original: Callable[..., Any]) -> Callable[..., Any]:
    sends = name.startswith("send")
    connects = name.startswith("connect")

    def method(self: socket.socket, *args: Any, **kwargs: Any) -> Any:
        watch = _current_watch()
        if watch is None:
            return original(self, *args, **kwargs)
        traffic = getattr(watch.loop, "traffic", None)
        if name == "close":
            if traffic is not None:
                traffic.closed(self)
            return original(self, *args, **kwargs)
        if self.gettimeout() == 0.0:  # the loop's own non-blocking I/O
            if connects and traffic is not None:  # the handshake's reply is due
                traffic.moved(self, sent=True, peer=args[0] if args else None)
            result = original(self, *args, **kwargs)
            if traffic is not None and (sends or (result and not connects)):
                traffic.moved(self, sent=sends)
            return result
        if not watch.in_task():
            return original(self, *args, **kwargs)
        started = time.perf_counter()
        try:
            return original(self, *args, **kwargs)
        finally:
            watch.blocked_on_socket(f"socket.{name}", time.perf_counter() - started,
                                    sys._getframe(1))
    method.__name__ = name
    method.__qualname__ = f"socket.{name}"
    return method


def _install() -> None:
    global _patch_users
    with _patch_lock:
        _patch_users += 1
        if _patch_users > 1:
            return
        time.sleep = patched_sleep  # type: ignore[assignment]
        concurrent.futures.ThreadPoolExecutor.submit = patched_submit  # type: ignore[method-assign,assignment]
        threading.Thread.start = patched_start  # type: ignore[method-assign]
        threading.Thread.join = patched_join  # type: ignore[method-assign]
        concurrent.futures.Future.result = patched_result  # type: ignore[method-assign]
        concurrent.futures.Future.exception = patched_exception  # type: ignore[method-assign]
        _saved_hook.append(warnings._warn_unawaited_coroutine)  # type: ignore[attr-defined]
        warnings._warn_unawaited_coroutine = _never_awaited  # type: ignore[attr-defined]
        for name in _SOCKET_METHODS:
            _saved[name] = socket.socket.__dict__.get(name)  # None: inherited from _socket
            setattr(socket.socket, name, _socket_wrapper(name, getattr(socket.socket, name)))


def _uninstall() -> None:
    global _patch_users
    with _patch_lock:
        _patch_users -= 1
        if _patch_users > 0:
            return
        time.sleep = _real_sleep
        concurrent.futures.ThreadPoolExecutor.submit = _real_submit  # type: ignore[method-assign]
        threading.Thread.start = _real_start  # type: ignore[method-assign]
        threading.Thread.join = _real_join  # type: ignore[method-assign]
        concurrent.futures.Future.result = _real_result  # type: ignore[method-assign]
        concurrent.futures.Future.exception = _real_exception  # type: ignore[method-assign]
        warnings._warn_unawaited_coroutine = _saved_hook.pop()  # type: ignore[attr-defined]
        for name, own in _saved.items():
            if own is None:
                delattr(socket.socket, name)
            else:
                setattr(socket.socket, name, own)
        _saved.clear()


def _learner_namespaces(main: object) -> Iterator[dict[str, Any]]:
    seen: set[int] = set()
    candidates = [getattr(main, "__globals__", None),
                  getattr(sys.modules.get("__main__"), "__dict__", None)]
    code = getattr(main, "cr_frame", None)
    if code is not None:
        candidates.append(code.f_globals)
    for module in list(sys.modules.values()):
        filename = getattr(module, "__file__", None) or ""
        if filename and not _is_library(filename):
            candidates.append(getattr(module, "__dict__", None))
    for ns in candidates:
        if isinstance(ns, dict) and id(ns) not in seen:
            seen.add(id(ns))
            yield ns


# ---------------------------------------------------------------- the watch over one run


class Watch:
    """Detectors active on the current thread for the duration of one run (a context manager)."""

    def __init__(self, loop: Any, recorder: Recorder, *, virtual: bool, main: object = None,
                 thorough: bool = False):
        self.loop = loop
        self.recorder = recorder
        self.virtual = virtual
        self.main = main
        self.thorough = thorough
        self.findings: list[Finding] = []
        self._swapped: list[tuple[dict[str, Any], str]] = []
        self._depth = 0

    def __repr__(self) -> str:
        return f"<Watch virtual={self.virtual} findings={len(self.findings)}>"

    def __enter__(self) -> Watch:
        _install()
        _local.watch = self
        for ns in _learner_namespaces(self.main):
            for name, value in list(ns.items()):
                if value is _real_sleep:
                    ns[name] = patched_sleep
                    self._swapped.append((ns, name))
        self._depth = sys.get_coroutine_origin_tracking_depth()
        sys.set_coroutine_origin_tracking_depth(32)
        self.loop.set_exception_handler(self._loop_error)
        if self.thorough:
            # Everything alive now predates the run: moved out of the collector's generations,
            # it is neither scanned nor traversed at the end (in a kernel, hundreds of thousands
            # of objects: a full scan and collection cost ~80 ms a run, nearly all of a test's
            # time). O(1); `collect_unawaited` moves them back.
            gc.freeze()
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            self.collect_unawaited()
        finally:
            sys.set_coroutine_origin_tracking_depth(self._depth)
            for ns, name in self._swapped:
                if ns.get(name) is patched_sleep:
                    ns[name] = _real_sleep
            _local.watch = None
            _uninstall()

    # -- blocking calls
    def in_task(self) -> bool:
        """Whether one of the run's tasks is executing on this thread right now."""
        return self.recorder.current is not None

    def slept(self, seconds: float, caller: types.FrameType) -> None:
        """``time.sleep(seconds)`` was called on the loop's thread."""
        in_task = self.in_task()
        if in_task or self.virtual:
            frame = _learner_frame(caller)
            where, line = _where(frame)
            self.recorder.note_blocked(seconds, f"time.sleep({seconds:g})")
            self._add(Finding("blocking-call", f"the event loop was blocked {secs(seconds)} s by "
                              f"`time.sleep`{where}", task=self._task_label(), line=line,
                              seconds=seconds))
        if self.virtual:
            self.loop.block(seconds)
        else:
            _real_sleep(seconds)

    def blocked_waiting(self, call: str, seconds: float, caller: types.FrameType) -> None:
        """The loop's thread waited ``seconds`` of virtual time in ``call`` for a thread."""
        if not self.in_task():
            return
        frame = _learner_frame(caller)
        where, line = _where(frame)
        entry = _library_entry(caller, frame) or call
        self.recorder.note_blocked(seconds, entry, start=self.recorder.now() - seconds)
        self._add(Finding("blocking-call", f"the event loop was blocked {secs(seconds)} s by "
                          f"`{entry}`{where} while it waited for a thread: await the thread's "
                          "work instead (`asyncio.to_thread`, `loop.run_in_executor`, "
                          "`asyncio.wrap_future`)", task=self._task_label(), line=line,
                          seconds=seconds))

    def blocked_on_socket(self, call: str, seconds: float, caller: types.FrameType) -> None:
        """A blocking socket operation ran on the loop's thread inside a task."""
        frame = _learner_frame(caller)
        where, line = _where(frame)
        entry = _library_entry(caller, frame) or call
        charged = 0.0 if self.virtual else seconds
        # the call has returned: its stall began ``charged`` seconds ago (0 in virtual time)
        self.recorder.note_blocked(charged, entry, start=self.recorder.now() - charged)
        self._add(Finding(
            "blocking-call",
            f"the event loop was blocked by the blocking network call `{entry}`{where}: "
            "use an asyncio-native client (for example httpx.AsyncClient) or asyncio.to_thread",
            task=self._task_label(), line=line, seconds=charged))

    def _task_label(self) -> str | None:
        current = self.recorder.current
        return current.label if current is not None else None

    def _add(self, finding: Finding) -> None:
        self.findings.append(finding)

    # -- lost tasks and exceptions nobody retrieved
    def note_lost_tasks(self, main_name: str) -> None:
        """Tasks still pending when the main coroutine returned were lost."""
        for description in self.recorder.waiting():
            label = description.split("`")[1]
            self._add(Finding(
                "lost-task",
                f"the task {description} was still running when `{main_name}` finished: nothing "
                "awaited it or kept it, so its work was lost (await it, cancel it, or use a "
                "TaskGroup)",
                task=label))

    def _loop_error(self, loop: Any, context: dict[str, Any]) -> None:
        exc = context.get("exception")
        future = context.get("future") or context.get("task")
        if isinstance(exc, asyncio.CancelledError):
            return  # the end-of-run cancellation of leftovers: already a lost-task finding
        if "never retrieved" in str(context.get("message", "")) and future is not None:
            coro = future.get_coro() if hasattr(future, "get_coro") else None
            label = getattr(coro, "label", None) or repr(future)
            self._add(Finding(
                "unretrieved-exception",
                f"the task `{label}` raised {type(exc).__name__}: {exc} but nothing awaited it, "
                "so the error went unnoticed", task=label))
        else:
            self._add(Finding("loop-error", f"{context.get('message')}: {exc!r}"))

    # -- never-awaited coroutines
    def collect_unawaited(self) -> None:
        """Turn never-awaited coroutines (collected or still alive) into findings.

        Freed coroutines reach the hook; live ones are looked for among young objects (those
        a short run makes), or, thoroughly, among all the objects the run made, followed by a
        collection of them, so that none is left to be blamed on a later run.
        """
        # Thorough: every object the run made (`__enter__` froze the older ones), in whichever
        # generation it is by now, since a coroutine kept alive by the run's error (its
        # traceback's frames) may have been promoted, and if left alive it would be reported,
        # when finally freed, by whichever later run is active then.
        try:
            found = gc.get_objects() if self.thorough else gc.get_objects(0) + gc.get_objects(1)
            for obj in found:
                self._check_coroutine(obj)
            del found
            gc.collect() if self.thorough else gc.collect(1)
        finally:
            if self.thorough:
                gc.unfreeze()

    def discarded(self, coro: types.CoroutineType[Any, Any, Any]) -> None:
        """A coroutine that never ran was freed (CPython's never-awaited hook)."""
        origin = coro.cr_origin
        self._unawaited(display_name(coro.__qualname__), list(origin) if origin else [])

    def _check_coroutine(self, obj: object) -> None:
        if (type(obj) is types.CoroutineType and obj.cr_origin is not None
                and inspect.getcoroutinestate(obj) == inspect.CORO_CREATED):
            self._unawaited(display_name(obj.__qualname__), list(obj.cr_origin))
            obj.close()

    def _unawaited(self, name: str, origin: list[tuple[str, int, str]]) -> None:
        """``origin`` lists (file, line, function), most recent call first."""
        user = [(f, n, fn) for f, n, fn in origin if not _is_library(f)]
        where, line = "", None
        if user:
            _, line, function = user[0]
            where = f" created at line {line}"
            if function != "<module>":
                where += f" (in `{function}`)"
        self._add(Finding("never-awaited",
                          f"the coroutine `{name}`{where} was never awaited: put `await` before "
                          "the call (or pass it to asyncio.create_task / gather)",
                          task=name, line=line))
