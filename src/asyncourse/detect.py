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
- blocking sockets (``requests``, ``urllib``, ``socket.create_connection``...) on the loop's
  thread while a task runs: recorded with the library call that made them.
- never-awaited coroutines: coroutine-origin tracking is on for the run's thread, so the warning
  (or, for one still referenced or in a cycle, a scan after ``gc.collect()``) names the line that
  created it. Found coroutines are closed, so no stray ``RuntimeWarning`` reaches stderr later.
"""

from __future__ import annotations

import asyncio
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

from .jobs import sleep_in_job
from .record import Recorder, display_name

__all__ = ["Finding", "Watch"]

FindingKind = Literal[
    "never-awaited", "blocking-call", "lost-task", "unretrieved-exception", "loop-error"
]

_real_sleep = time.sleep
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
        a short run makes), or, thoroughly, among all objects followed by a full collection,
        so that none is left to be blamed on a later run (10-100 ms).
        """
        # Thorough: every object, since a coroutine kept alive by the run's error (its traceback's
        # frames) may be old by now, and if left alive it would be reported, when finally freed,
        # by whichever later run is active then.
        found = gc.get_objects() if self.thorough else gc.get_objects(0) + gc.get_objects(1)
        for obj in found:
            self._check_coroutine(obj)
        del found
        gc.collect() if self.thorough else gc.collect(1)

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
