"""The warm backends: each learner's sandbox forked from a template that imported everything once.

Why. Most of a cold run is starting two Python processes (runner, kernel) and importing the same
modules again for every learner: nbclient and jupyter_client, then ipykernel, IPython, matplotlib
and the helper package. A template process (`_template`) imports all of it once and forks a
fresh runner and kernel per learner; the kernel is IPKernelApp started in the fork (`_forked`).

How isolation is kept. Bubblewrap builds a sandbox around a command it starts; it cannot adopt a
process forked later. So the template itself runs in a bubblewrap sandbox built like a cold one
(the course hidden, read-only system and virtualenv, the helper package at its neutral path, no
network, the seccomp filter, its own pid namespace, dying with this process), holding only the
capabilities that making a learner's sandbox needs. For each learner it forks a process that
makes that learner's own namespaces inside its own (pid, mount, network, ipc, uts, cgroup), a
fresh ``/proc``, fresh tmpfs at ``/tmp``, ``/dev/shm`` and the kernel's folder, a ``/dev/pts``
instance and its own loopback, joins the learner's cgroup (through ``cgroup.procs`` descriptors
this process opened) before anything else starts, and gives up its capabilities: the runner keeps
CAP_SETUID and CAP_SETGID (the bounding set too) until its kernel runs, as in a cold sandbox; the
kernel gets the learner's own uid (a base + the host pid of that sandbox's init, unique while it
runs), the rlimits, no capability, no_new_privs and the template's seccomp filter. The template
never runs learner code and is invisible from a learner's pid namespace; every learner's code
runs in a process forked for that learner alone, from a template that ran no one's code.

The protocol with the runner is the cold one (`_process`): the runner's stdin, stdout and stderr
are pipes this process made, passed to the template with ``socket.send_fds``. The sandbox's init
reports its pid with ``SCM_CREDENTIALS`` (translated into this pid namespace by the kernel): the
host writes the guard's key and the learner's files through ``/proc/<pid>/root``, holds a pidfd
to end it (the pid namespace ends with its init) and kills what is left in its cgroup.

A run whose environment changes what Python reads at start-up (``PYTHONHASHSEED``, ``PYTHON*``,
thread and allocator settings) cannot be forked from this template: it runs cold. So does every
run when the template cannot start (the reason is kept for `describe`).
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import select
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import IO, Any

from . import _bwrap, _cgroups, _seccomp
from ._backend import KERNEL_ENV, BackendUnavailable
from ._limits import Limits
from ._local import LocalBackend
from ._process import Launch, private_tmp
from ._sandbox import (
    SANDBOX_ENV,
    SANDBOX_TASKS,
    SandboxBackend,
    _fd_with,
    _font_cache,
    _prepare_scratch,
    _runner_env,
    _sandbox_path,
    _uid_base,
)

__all__ = ["TemplateUnavailable", "WarmLocalBackend", "WarmSandboxBackend"]

TEMPLATE = Path(__file__).with_name("_template.py")
INLINE = "module://matplotlib_inline.backend_inline"
TEMPLATE_TIMEOUT = 120.0  # seconds for a template to import everything on a busy machine
#: Read by Python or native libraries when a process starts: a forked kernel has the template's.
STARTUP_VARIABLES = ("LANG", "LC_ALL", "LC_CTYPE", "MALLOC_ARENA_MAX", "OPENBLAS_NUM_THREADS",
                     "OMP_NUM_THREADS", "MKL_NUM_THREADS")


class TemplateUnavailable(RuntimeError):
    """The template could not start or has stopped (the message says why)."""


def startup_differs(template: Mapping[str, str], kernel: Mapping[str, str]) -> list[str]:
    """Variables read at start-up whose values differ between the template and a kernel."""
    names = {n for n in [*template, *kernel] if n.startswith("PYTHON")} | set(STARTUP_VARIABLES)
    return sorted(n for n in names if template.get(n) != kernel.get(n))


class Template:
    """One template process and its control socket (see `_template`)."""

    def __init__(self, *, sandboxed: bool, env: Mapping[str, str],
                 hidden: Iterable[Path] = ()) -> None:
        self.sandboxed = sandboxed
        self.env = dict(env)
        self.lock = threading.Lock()
        self.log = tempfile.TemporaryFile()  # noqa: SIM115  (closed by close())
        host, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        keep: list[Any] = []
        tmp = private_tmp("asyncourse-template-")
        try:
            if sandboxed:
                program = _seccomp.program()
                seccomp_fd = _fd_with(program, tmp.name, keep) if program else None
                args = _bwrap.template_arguments(seccomp_fd, hidden, _font_cache())
                args_fd = _fd_with(b"".join(a.encode() + b"\0" for a in args), tmp.name, keep)
                argv = [shutil.which("bwrap") or "bwrap", "--args", str(args_fd),
                        *_bwrap.template_command(theirs.fileno())]
            else:
                argv = [sys.executable, "-s", "-P", "-B", str(TEMPLATE), str(theirs.fileno()),
                        "trusted"]
            self.proc = self._start(argv, (theirs.fileno(), *(f.fileno() for f in keep)))
            theirs.close()
            host.settimeout(TEMPLATE_TIMEOUT)
            try:
                said = host.recv(16)
            except OSError:
                said = b""
            if said != b"ready":
                self.close()
                raise TemplateUnavailable(f"the warm template did not start: {self.tail()}")
            host.settimeout(None)
        finally:
            for f in keep:
                f.close()
            tmp.cleanup()
            theirs.close()
        self.socket = host

    def _start(self, argv: list[str], fds: tuple[int, ...]) -> subprocess.Popen[bytes]:
        """Start the template from a thread of its own that lives as long as it does: bwrap's
        --die-with-parent follows the thread that started it, not the process."""
        started: list[subprocess.Popen[bytes] | BaseException] = []
        ready = threading.Event()

        def keep() -> None:
            try:
                proc = subprocess.Popen(argv, env=self.env, stdin=subprocess.DEVNULL,
                                        stdout=self.log, stderr=self.log, pass_fds=fds,
                                        start_new_session=True)
            except BaseException as err:
                started.append(err)
                ready.set()
                return
            started.append(proc)
            ready.set()
            proc.wait()

        threading.Thread(target=keep, name="warm-template", daemon=True).start()
        ready.wait()
        if isinstance(started[0], BaseException):
            raise started[0]
        return started[0]

    def tail(self) -> str:
        with contextlib.suppress(OSError, ValueError):
            self.log.seek(0, os.SEEK_END)
            self.log.seek(max(0, self.log.tell() - 2000))
            return self.log.read().decode(errors="replace").strip() or "no message"
        return "no message"

    def alive(self) -> bool:
        return self.proc.poll() is None

    def fork(self, request: Mapping[str, Any], fds: list[int]) -> None:
        """Ask for one learner's sandbox, given its pipes, control socket and cgroup files."""
        with self.lock:
            if not self.alive():
                raise TemplateUnavailable(f"the warm template stopped: {self.tail()}")
            socket.send_fds(self.socket, [json.dumps(request).encode()], fds)

    def close(self) -> None:
        with contextlib.suppress(OSError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=10)
        with contextlib.suppress(OSError, AttributeError):
            self.socket.close()
        self.log.close()


class WarmProcess:
    """A learner's runner forked by the template, used by `RunnerProcess` as a ``Popen``."""

    def __init__(self, template: Template, request: Mapping[str, Any],
                 group: _cgroups.Cgroup | None, timeout: float, workdir: str | None) -> None:
        stdin_r, stdin_w = os.pipe()
        stdout_r, stdout_w = os.pipe()
        stderr_r, stderr_w = os.pipe()
        control, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        control.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
        group_fds: list[int] = []
        try:
            for path in group.procs_files() if group is not None else []:
                group_fds.append(os.open(path, os.O_WRONLY | os.O_CLOEXEC))
            template.fork(request, [stdin_r, stdout_w, stderr_w, theirs.fileno(), *group_fds])
        except BaseException:
            for fd in (stdin_w, stdout_r, stderr_r):
                os.close(fd)
            control.close()
            raise
        finally:
            for fd in (stdin_r, stdout_w, stderr_w, *group_fds):
                os.close(fd)
            theirs.close()
        self.stdin: IO[bytes] = open(stdin_w, "wb")  # noqa: SIM115  (closed by kill)
        self.stdout: IO[bytes] = open(stdout_r, "rb")  # noqa: SIM115
        self.stderr: IO[bytes] = open(stderr_r, "rb")  # noqa: SIM115
        self.control, self.group = control, group
        self.returncode: int | None = None
        self.pidfd = -1
        try:
            self.pid = _ready(control, timeout)
            self.pidfd = os.pidfd_open(self.pid)
            if _ended(control):  # the pid may have been reused: it must still be ours
                raise OSError(f"the warm sandbox ended before it started: {template.tail()}")
        except BaseException:
            self.kill_all()
            raise
        self.scratch = Path(f"/proc/{self.pid}/root{workdir}") if workdir else None

    def poll(self) -> int | None:
        if (self.returncode is None and self.pidfd >= 0
                and select.select([self.pidfd], [], [], 0)[0]):
            self.returncode = 0
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        if self.poll() is None and self.pidfd >= 0:
            if not select.select([self.pidfd], [], [], timeout)[0]:
                raise subprocess.TimeoutExpired(["warm sandbox"], timeout or 0.0)
            self.returncode = 0
        return self.returncode or 0

    def kill_all(self) -> None:
        """End the sandbox: SIGKILL its init (the pid namespace goes with it), then whatever is
        left in its cgroup."""
        if self.pidfd >= 0 and self.poll() is None:
            with contextlib.suppress(OSError):
                signal.pidfd_send_signal(self.pidfd, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.wait(timeout=5)
        if self.group is not None:
            self.group.kill_all()
        if self.pidfd >= 0:
            os.close(self.pidfd)
            self.pidfd = -1
        self.returncode = -signal.SIGKILL if self.returncode is None else self.returncode
        self.control.close()


def _ready(control: socket.socket, timeout: float) -> int:
    """The pid (in this pid namespace) of the process that said "ready" on `control`."""
    control.settimeout(timeout)
    try:
        message, ancillary, _flags, _addr = control.recvmsg(16, socket.CMSG_SPACE(12))
    except OSError as err:
        raise OSError(f"the warm sandbox did not start ({err})") from err
    for level, kind, data in ancillary:
        if level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS and message == b"ready":
            pid: int = struct.unpack("3i", data[:12])[0]
            return pid
    raise OSError("the warm sandbox did not start")


def _ended(control: socket.socket) -> bool:
    control.setblocking(False)
    try:
        return control.recv(16) == b""
    except BlockingIOError:
        return False
    finally:
        control.setblocking(True)


def _under_private_tmp() -> Path | None:
    """The interpreter's or the venv's folder when it is under /tmp or /dev/shm (a clone made
    with `mktemp -d`): a forked learner gets fresh tmpfs there, so its kernel would find no
    Python. The cold sandbox binds it over its tmpfs and works."""
    roots = {Path(sys.base_prefix).resolve(), Path(sys.prefix).resolve(),
             Path(sys.executable).resolve().parent.parent}
    for root in sorted(roots):
        if root.is_relative_to("/tmp") or root.is_relative_to("/dev/shm"):
            return root
    return None


class _Templates:
    """The one template of a backend, started on first use; its failure is remembered."""

    def __init__(self, sandboxed: bool, env: Mapping[str, str], hidden: Iterable[Path]) -> None:
        self.sandboxed, self.env, self.hidden = sandboxed, dict(env), tuple(hidden)
        self.lock = threading.Lock()
        self.template: Template | None = None
        self.problem: str | None = None
        self.starts = 0

    def get(self) -> Template:
        with self.lock:
            if self.template is not None and self.template.alive():
                return self.template
            if self.template is not None:  # it stopped: start one more, once
                self.problem = f"the warm template stopped ({self.template.tail()})"
                self.template.close()
                self.template = None
            if self.starts >= 2 or (self.problem and self.starts):
                raise TemplateUnavailable(self.problem or "the warm template cannot start")
            if self.sandboxed and (hidden_by := _under_private_tmp()):
                self.problem = (f"Python lives in {hidden_by}, under /tmp, which each learner's "
                                "sandbox replaces with a tmpfs of its own")
                raise TemplateUnavailable(self.problem)
            self.starts += 1
            try:
                self.template = Template(sandboxed=self.sandboxed, env=self.env,
                                         hidden=self.hidden)
            except (OSError, TemplateUnavailable) as err:
                self.problem = str(err)
                raise TemplateUnavailable(self.problem) from err
            return self.template

    def close(self) -> None:
        with self.lock:
            if self.template is not None:
                self.template.close()
                self.template = None


def _template_env_sandbox() -> dict[str, str]:
    env = {**SANDBOX_ENV, "PATH": _sandbox_path(), "MPLBACKEND": INLINE,
           "ASYNCOURSE_RUNNER": Path(_bwrap.RUNNER_IN_SANDBOX).name}
    if _bwrap.helper_package_root() is not None:
        env["PYTHONPATH"] = _bwrap.HELPER_IN_SANDBOX
    return env


class WarmSandboxBackend(SandboxBackend):
    """The sandbox, each learner's forked from a warm template (see the module docstring);
    a cold sandbox where a run cannot be forked from it."""

    name = "warm-sandbox"

    def __init__(self, *, prestart: bool = True, hidden: Iterable[Path] = ()) -> None:
        super().__init__(prestart=prestart, hidden=hidden)
        self.templates = _Templates(True, _template_env_sandbox(), self.hidden)
        self.cold_runs = 0

    def check(self) -> None:
        """The cold sandbox's checks, then the template must start (once per backend)."""
        super().check()
        try:
            self.templates.get()
        except TemplateUnavailable as err:
            raise BackendUnavailable(str(err)) from err

    def describe(self) -> str:
        cold = super().describe()
        if self.templates.problem:
            return f"{cold} (cold: {self.templates.problem})"
        return cold.replace("in the bubblewrap sandbox", "in the bubblewrap sandbox, each "
                            "forked from a warm template")

    def launch(self, env: Mapping[str, str], limits: Limits) -> Launch:
        kernel_env = {**SANDBOX_ENV, "PATH": _sandbox_path(), **env}
        if _bwrap.helper_package_root() is not None:
            kernel_env["PYTHONPATH"] = _bwrap.HELPER_IN_SANDBOX
        try:
            if startup_differs(self.templates.env, kernel_env):
                raise TemplateUnavailable("the run's environment differs at start-up")
            template = self.templates.get()
        except TemplateUnavailable:
            self.cold_runs += 1
            return super().launch(env, limits)
        group = _cgroups.Cgroup.create(limits.sandbox_memory_bytes,
                                       limits.max_processes + SANDBOX_TASKS, 1.0)
        request = {"limits": dataclasses.asdict(limits), "workdir": _bwrap.WORKDIR,
                   "runner_env": _runner_env(), "chdir": "/tmp"}
        base = _uid_base()

        def cleanup() -> None:
            if group is not None:
                group.remove()

        return Launch(
            argv=(), env={},
            setup={"kernel_env": kernel_env, "workdir": _bwrap.WORKDIR, "private": "/tmp/runner",
                   "runtime": "/tmp/runtime", "guard": _bwrap.GUARD_IN_SANDBOX},
            scratch=Path(_bwrap.WORKDIR),  # replaced by the sandbox's, seen through /proc
            cleanup=cleanup,
            uid_of=lambda pid: base + pid,  # pid: the sandbox's init, unique while it runs
            prepare=_prepare_scratch,
            oom_killed=group.oom_killed if group is not None else (lambda: False),
            cpu_used=group.cpu_seconds if group is not None else (lambda: None),
            start=lambda: WarmProcess(template, request, group, limits.startup_timeout,
                                      _bwrap.WORKDIR),
        )

    def close(self) -> None:
        super().close()
        self.templates.close()


class WarmLocalBackend(LocalBackend):
    """Trusted notebooks (``--no-sandbox``, a learner's own Validate), each run forked from a
    warm template started as a plain process: no isolation, as `LocalBackend`."""

    name = "warm-local"

    def __init__(self, *, prestart: bool = True) -> None:
        super().__init__(prestart=prestart)
        env = {**os.environ, **KERNEL_ENV, "MPLBACKEND": INLINE}
        self.templates = _Templates(False, env, ())

    def check(self) -> None:
        try:
            self.templates.get()
        except TemplateUnavailable as err:
            raise BackendUnavailable(str(err)) from err

    def launch(self, env: Mapping[str, str], limits: Limits) -> Launch:
        cold = super().launch(env, limits)
        kernel_env = dict(cold.setup["kernel_env"])
        try:
            if startup_differs({**self.templates.env, "MPLBACKEND": ""},
                               {**kernel_env, "MPLBACKEND": ""}):
                raise TemplateUnavailable("the run's environment differs at start-up")
            template = self.templates.get()
        except TemplateUnavailable:
            return cold
        request = {"limits": dataclasses.asdict(limits), "runner_env": dict(cold.env),
                   "chdir": str(cold.scratch.parent)}
        return dataclasses.replace(
            cold, start=lambda: WarmProcess(template, request, None, limits.startup_timeout,
                                            None))

    def close(self) -> None:
        super().close()
        self.templates.close()

