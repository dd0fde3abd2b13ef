"""The host side of one runner process: start it, feed it a notebook, read its events, assemble.

Every backend runs the same runner (`_runner.py`) and differs only in how the runner's process is
contained (`_local`: a plain subprocess; `_sandbox`: bubblewrap), so this module holds what they
share: the two-line stdin protocol, reading the event stream with a cap on how much the host
accepts, killing the whole process group at the host deadline, the pre-started spare (the next
learner's runner and kernel boot while the caller does its own work), and turning the events into
an `Execution`.
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import io
import json
import os
import secrets
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, cast

import nbformat

from ._limits import Limits
from ._result import CellRun, CellStatus, Execution, RunOutcome

RUNNER = Path(__file__).with_name("_runner.py")
GUARD = Path(__file__).with_name("_guard.py")
KEY_FILE = ".grader-key"  # the guard's key, read and deleted by the guard before learner code
RESERVED = ".grader-"  # the guard's files in the kernel's folder: never a submitted file
MAX_RESULT_BYTES = 32 << 20  # bytes the host accepts from the runner's stdout
HOST_MARGIN = 10.0  # seconds past total_timeout before the host kills the runner
_node = cast(Callable[[Any], nbformat.NotebookNode], nbformat.from_dict)
_OUTCOMES: frozenset[str] = frozenset(
    {"completed", "timeout", "kernel-died", "memory", "output-limit", "failed"}
)


@dataclasses.dataclass(frozen=True)
class Launch:
    """How a backend starts one runner: its command, environment and the folders it uses.

    `scratch` is the host folder that is the kernel's working folder (`workdir` as the runner
    sees it). `uid_of(pid)` gives the kernel's uid once the runner's pid is known (None: the
    kernel runs as this process's user); `prepare(scratch, uid)` readies scratch for it.
    """

    argv: Sequence[str]
    env: Mapping[str, str]
    setup: Mapping[str, Any]  # line 1 of the protocol, without the limits and the uid
    scratch: Path
    cleanup: Callable[[], None]
    uid_of: Callable[[int], int | None] = lambda pid: None
    prepare: Callable[[Path, int | None], None] = lambda scratch, uid: None
    pass_fds: tuple[int, ...] = ()
    oom_killed: Callable[[], bool] = lambda: False  # the whole sandbox ran out of memory
    cpu_used: Callable[[], float | None] = lambda: None  # CPU seconds of all its processes
    #: Starts the runner some other way than running `argv` (the warm template forks it): gives
    #: an object used as the ``Popen`` would be, whose ``scratch`` (if it has one) replaces
    #: `scratch` and whose ``kill_all()`` replaces killing the process group.
    start: Callable[[], Any] | None = None


class RunnerProcess:
    """One runner and its kernel, started with limits and env; it runs exactly one notebook."""

    def __init__(self, launch: Callable[[], Launch], limits: Limits, key: tuple[Any, ...]) -> None:
        self.limits, self.key = limits, key
        self.events: list[dict[str, Any]] = []
        self.problem: list[str] = []
        self.tail = bytearray()
        spec = launch()
        self.spec = spec
        try:
            if spec.start is not None:
                self.proc: Any = spec.start()
            else:
                self.proc = subprocess.Popen(
                    list(spec.argv),
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    env=dict(spec.env),
                    start_new_session=True,
                    pass_fds=spec.pass_fds,
                )
        except OSError:
            spec.cleanup()
            raise
        self.scratch: Path = getattr(self.proc, "scratch", None) or spec.scratch
        self.uid = spec.uid_of(self.proc.pid)
        self.cpu_seconds: float | None = None
        guard_key = secrets.token_bytes(32)
        try:
            spec.prepare(self.scratch, self.uid)
            (self.scratch / KEY_FILE).write_bytes(guard_key)
            os.chmod(self.scratch / KEY_FILE, 0o400)
            if self.uid is not None:
                os.lchown(self.scratch / KEY_FILE, self.uid, self.uid)
        except OSError:
            self.discard()
            raise
        self.threads = [
            threading.Thread(target=f, daemon=True) for f in (self._read_stdout, self._read_stderr)
        ]
        for thread in self.threads:
            thread.start()
        setup = {**spec.setup, "limits": dataclasses.asdict(limits), "kernel_uid": self.uid,
                 "key": guard_key.hex()}
        self._write(json.dumps(setup).encode() + b"\n")

    def alive(self) -> bool:
        return self.proc.poll() is None and not self.problem

    def ready(self) -> bool:
        return {"event": "ready"} in self.events

    def run(
        self, nb: nbformat.NotebookNode, files: Mapping[str, bytes]
    ) -> tuple[list[dict[str, Any]], str | None, str]:
        """Send the notebook, wait at most total_timeout + HOST_MARGIN; events, problem, stderr."""
        write_files(self.scratch, files, self.uid)
        request = json.dumps({"notebook": nb}).encode() + b"\n"
        deadline = time.monotonic() + self.limits.total_timeout + HOST_MARGIN
        writer = threading.Thread(target=self._write, args=(request, True), daemon=True)
        writer.start()  # a thread: a runner that stops reading must not block the host
        try:
            self.proc.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            self.problem.append("timeout")
            kill(self.proc)
        for thread in [writer, *self.threads]:
            thread.join(timeout=5)
        if self.spec.oom_killed():
            self.problem.insert(0, "memory")
        self.cpu_seconds = self.spec.cpu_used()
        return self.events, (self.problem[0] if self.problem else None), self.stderr()

    def stderr(self) -> str:
        return self.tail.decode(errors="replace")

    def discard(self) -> None:
        kill(self.proc)
        self.spec.cleanup()

    def _write(self, data: bytes, close: bool = False) -> None:
        with contextlib.suppress(OSError, ValueError):
            assert self.proc.stdin is not None
            self.proc.stdin.write(data)
            self.proc.stdin.flush()
            if close:
                self.proc.stdin.close()

    def _read_stdout(self) -> None:
        total, pending = 0, bytearray()  # never more than MAX_RESULT_BYTES in memory
        stdout = cast(io.BufferedReader, self.proc.stdout)
        with contextlib.suppress(OSError, ValueError):
            while chunk := stdout.read1(1 << 20):
                total += len(chunk)
                if total > MAX_RESULT_BYTES:
                    self.problem.append("too-much")
                    kill(self.proc)
                    return
                pending.extend(chunk)
                *lines, rest = pending.split(b"\n")
                pending = bytearray(rest)
                for line in lines:
                    with contextlib.suppress(ValueError):
                        self.events.append(json.loads(line))

    def _read_stderr(self) -> None:
        stderr = cast(io.BufferedReader, self.proc.stderr)
        with contextlib.suppress(OSError, ValueError):
            while chunk := stderr.read1(65536):
                self.tail.extend(chunk)
                del self.tail[:-8192]


class Spares:
    """At most one pre-started runner per thread (Dask runs a worker's jobs in threads)."""

    def __init__(self) -> None:
        self._local = threading.local()
        self._all: set[RunnerProcess] = set()
        self._lock = threading.Lock()

    def take(self, key: tuple[Any, ...]) -> RunnerProcess | None:
        box: RunnerProcess | None = getattr(self._local, "box", None)
        self._local.box = None
        with self._lock:
            self._all.discard(box) if box is not None else None
        if box is not None and box.key == key and box.alive():
            return box
        if box is not None:
            box.discard()
        return None

    def put(self, box: RunnerProcess | None) -> None:
        old: RunnerProcess | None = getattr(self._local, "box", None)
        self._local.box = box
        with self._lock:
            if old is not None:
                self._all.discard(old)
            if box is not None:
                self._all.add(box)
        if old is not None:
            old.discard()

    def current(self) -> RunnerProcess | None:
        """This thread's spare (tests look at it)."""
        return cast("RunnerProcess | None", getattr(self._local, "box", None))

    def discard_all(self) -> None:
        with self._lock:
            boxes, self._all = list(self._all), set()
        for box in boxes:
            box.discard()
        self._local.box = None


def check_name(name: str) -> Path:
    rel = Path(name)
    if rel.is_absolute() or ".." in rel.parts or not rel.parts:
        raise ValueError(f"extra file names must be relative paths inside scratch: {name!r}")
    return rel


def write_files(scratch: Path, files: Mapping[str, bytes], uid: int | None) -> None:
    """Write the files (and new folders) into scratch, owned by the kernel's uid."""
    for name, content in files.items():
        if Path(name).name.startswith(RESERVED):
            continue  # the guard's: a submission cannot bring one
        target = scratch / check_name(name)
        for parent in reversed(target.relative_to(scratch).parents[:-1]):
            if not (scratch / parent).exists():
                (scratch / parent).mkdir()
                if uid is not None:
                    os.lchown(scratch / parent, uid, uid)
        target.write_bytes(content)
        if uid is not None:
            os.lchown(target, uid, uid)


def private_tmp(prefix: str) -> tempfile.TemporaryDirectory[str]:
    return tempfile.TemporaryDirectory(prefix=prefix, ignore_cleanup_errors=True)


def kill(proc: Any) -> None:
    """SIGKILL the runner's process group (in the sandbox --die-with-parent ends the rest), or
    all of a warm sandbox's processes."""
    kill_all = getattr(proc, "kill_all", None)
    if kill_all is not None:
        kill_all()
    elif proc.poll() is None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=5)
    for stream in (proc.stdin, proc.stdout, proc.stderr):
        if stream is not None:
            with contextlib.suppress(OSError):
                stream.close()


def without_outputs(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """A copy with submitted outputs dropped: only what runs here may count."""
    clean = copy.deepcopy(nb)
    for cell in clean.cells:
        if isinstance(cell.get("source"), list):  # the on-disk form: lines
            cell.source = "".join(cell.source)
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    return clean


def assemble(
    nb: nbformat.NotebookNode,
    events: list[dict[str, Any]],
    problem: str | None,
    stderr: str,
    seconds: float,
) -> Execution:
    """The `Execution` that the runner's events (and the host's own observations) describe."""
    done: set[int] = set()
    cells: list[CellRun] = []
    last_started: int | None = None
    end: dict[str, Any] | None = None
    integrity: str | None = None
    for event in events:
        kind = event.get("event")
        if kind == "start":
            last_started = int(event["index"])
        elif kind == "done":
            index = int(event["index"])
            nb.cells[index].outputs = [_node(out) for out in event["outputs"]]
            nb.cells[index].execution_count = event.get("execution_count")
            status = event.get("status")
            cells.append(CellRun(index, cast(CellStatus, status) if status in
                                 ("ok", "error", "timeout") else "error"))
            done.add(index)
        elif kind == "end":
            end = event
    where = f" in cell {last_started + 1}" if last_started is not None else ""
    cell = last_started + 1 if last_started is not None else None
    detail: str | None = None
    outcome: RunOutcome
    if problem == "memory":
        outcome, reason, failed = (
            "memory", f"the notebook's processes used more memory than allowed{where}", cell
        )
    elif problem == "too-much":
        outcome, reason, failed = (
            "output-limit", f"the notebook wrote more output than the grader accepts{where}", cell
        )
    elif problem == "timeout":
        outcome, reason, failed = "timeout", f"ran past the time limit{where}", cell
    elif end is not None and end.get("outcome") in _OUTCOMES:
        outcome = cast(RunOutcome, end["outcome"])
        reason, failed, detail = end["reason"], end["failed_cell"], end.get("detail")
        integrity = end.get("integrity")
        if end.get("language_info"):
            nb.metadata.language_info = _node(end["language_info"])
    else:
        outcome, reason, failed = "failed", f"the grading runner stopped unexpectedly{where}", cell
        detail = stderr[-4000:] or None
    for index, c in enumerate(nb.cells):
        if c.cell_type == "code" and c.source.strip() and index not in done:
            why = f"not run: {reason}" if reason else "not run"
            c.outputs = [
                _node(
                    {"output_type": "error", "ename": "NotRun", "evalue": why, "traceback": [why]}
                )
            ]
            cells.append(CellRun(index, "not-run"))
    cells.sort(key=lambda c: c.index)
    return Execution(nb, outcome, reason, failed, tuple(cells), detail, seconds, integrity)
