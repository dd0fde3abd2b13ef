"""The kernel as a fork of the warm runner: IPKernelApp started in-process, nothing imported again.

In the warm template every module the kernel needs is already imported, so a kernel need not be a
new interpreter. The runner forks a *zygote* first thing, while it is still one thread and has
opened nothing (no event loop, no ZeroMQ context, no socket); the zygote waits on a pipe. When
nbclient asks jupyter_client to launch the kernel, `ForkedKernelManager` sends the zygote the
launch (arguments, environment, folder, uid, limits) instead of running a command, and the zygote
becomes the kernel the way ``prlimit ... python -P -m ipykernel_launcher`` would make one:

- a new session, stdin from /dev/null, stdout and stderr to the runner's ``kernel.err`` (root's,
  0600: the kernel cannot reopen it), every other descriptor closed;
- the limits as rlimits (CPU, address space, processes, open files, file size, no core); the
  address-space limit counts from where a cold kernel's does: the template's modules that a cold
  kernel would not have loaded yet (the runner's, matplotlib) are added to it;
- the learner's uid and gid, no supplementary groups: moving from uid 0 to another uid clears
  every capability; no_new_privs (and the sandbox's seccomp filter, inherited);
- the environment replaced, Python's signal handlers and random generators reset, the garbage
  collector's frozen objects given back to it, then ``IPKernelApp.launch_instance``.

`ForkedKernel` is what jupyter_client's provisioner expects of a ``Popen``: ``pid``, ``poll``,
``wait``, ``send_signal``, ``kill`` (the zygote is the runner's child, so exit codes and signals
read as a subprocess's would, and the runner's words for a dead kernel stay the same).

Standard library, jupyter_client and ipykernel only: bound into the sandbox next to the runner.
"""

from __future__ import annotations

import contextlib
import gc
import json
import os
import random
import resource
import signal
import subprocess
import sys
import time
from typing import Any

__all__ = ["ADDRESS_SPACE_ALLOWANCE", "ForkedKernel", "Zygote", "warm_runner"]

#: Bytes of address space the template mapped that a cold kernel would not have mapped yet
#: (set by the template): added to the kernel's address-space limit, so learner code has the
#: same room under it as in a cold kernel.
ADDRESS_SPACE_ALLOWANCE = 0


class ForkedKernel:
    """The zygote become kernel, seen as jupyter_client sees a ``Popen``."""

    stdin = stdout = stderr = None

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            try:
                pid, status = os.waitpid(self.pid, os.WNOHANG)
            except ChildProcessError:
                self.returncode = 0  # reaped elsewhere: gone all the same
                return self.returncode
            if pid:
                self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if deadline is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired(["kernel"], timeout or 0.0)
            time.sleep(0.02)
        assert self.returncode is not None
        return self.returncode

    def send_signal(self, signum: int) -> None:
        if self.poll() is None:
            os.kill(self.pid, signum)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)


class Zygote:
    """A fork of the runner, made before the runner does anything, that becomes its kernel."""

    def __init__(self) -> None:
        read, self._write = os.pipe()
        self.pid = os.fork()
        if self.pid == 0:
            os.close(self._write)
            code = 1
            try:
                spec = _read_all(read)
                if spec:
                    become_kernel(json.loads(spec))
                code = 0
            finally:
                os._exit(code)
        os.close(read)

    def launch(self, spec: dict[str, Any]) -> ForkedKernel:
        with open(self._write, "wb") as pipe:
            pipe.write(json.dumps(spec).encode())
        return ForkedKernel(self.pid)


def _read_all(fd: int) -> bytes:
    chunks = []
    while chunk := os.read(fd, 1 << 16):
        chunks.append(chunk)
    os.close(fd)
    return b"".join(chunks)


def become_kernel(spec: dict[str, Any]) -> None:
    """Turn this process into the learner's kernel (see the module docstring); never returns."""
    os.setsid()
    null = os.open(os.devnull, os.O_RDONLY)
    err = os.open(spec["stderr"], os.O_WRONLY | os.O_APPEND)
    for target, fd in ((0, null), (1, err), (2, err)):
        os.dup2(fd, target)
    os.closerange(3, 1 << 16)
    os.chdir(spec["cwd"])
    limits = spec["limits"]
    cpu = int(limits["cpu_seconds"])
    for which, value in ((resource.RLIMIT_CPU, (cpu, cpu + 2)),
                         (resource.RLIMIT_AS,
                          (int(limits["memory_bytes"]) + ADDRESS_SPACE_ALLOWANCE,) * 2),
                         (resource.RLIMIT_NPROC, (int(limits["max_processes"]),) * 2),
                         (resource.RLIMIT_NOFILE, (int(limits["max_open_files"]),) * 2),
                         (resource.RLIMIT_FSIZE, (int(limits["max_file_bytes"]),) * 2),
                         (resource.RLIMIT_CORE, (0, 0))):
        resource.setrlimit(which, value)
    uid = spec["uid"]
    if uid is not None:
        os.setgroups([])
        os.setresgid(uid, uid, uid)
        os.setresuid(uid, uid, uid)  # from uid 0 to another: every capability is cleared
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(38, 1, 0, 0, 0) != 0:  # PR_SET_NO_NEW_PRIVS
            os._exit(1)
        libc.prctl(4, 1, 0, 0, 0)  # PR_SET_DUMPABLE (reset by the uid change): as after an exec
    os.environ.clear()
    os.environ.update(spec["env"])
    for signum, handler in ((signal.SIGINT, signal.default_int_handler),
                            (signal.SIGTERM, signal.SIG_DFL), (signal.SIGCHLD, signal.SIG_DFL),
                            (signal.SIGPIPE, signal.SIG_IGN), (signal.SIGXFSZ, signal.SIG_IGN)):
        signal.signal(signum, handler)
    gc.unfreeze()  # the template's objects are the kernel's own now: found by gc like any other
    random.seed()
    numpy = sys.modules.get("numpy")
    with contextlib.suppress(Exception):
        if numpy is not None:
            numpy.random.seed()
    import importlib.util

    from ipykernel import kernelapp

    launcher = importlib.util.find_spec("ipykernel_launcher")
    sys.argv = [getattr(launcher, "origin", None) or "ipykernel_launcher", *spec["argv"]]

    kernelapp.launch_new_instance(argv=spec["argv"])
    sys.stdout.flush()
    os._exit(0)


def warm_runner(runner: Any, zygote: Zygote) -> type:
    """The runner module's `Runner`, starting its kernel from `zygote` instead of a command."""
    from jupyter_client.manager import AsyncKernelManager

    class WarmRunner(runner.Runner):  # type: ignore[misc]
        def make_kernel_manager(self) -> AsyncKernelManager:
            manager: AsyncKernelManager = super().make_kernel_manager()
            limits, uid, err_file = self.limits, self.uid, os.path.join(self.private, "kernel.err")

            async def launch(kernel_cmd: list[str], **kw: Any) -> None:
                provisioner: Any = manager.provisioner  # a LocalProvisioner: it uses process
                assert provisioner is not None
                env = dict(kw.get("env") or {})
                env["JPY_PARENT_PID"] = str(os.getpid())
                at = kernel_cmd.index("ipykernel_launcher")
                argv = [*kernel_cmd[at + 1:], f"--IPKernelApp.parent_handle={os.getpid()}"]
                process = zygote.launch({
                    "argv": argv, "env": env, "cwd": kw.get("cwd") or os.getcwd(), "uid": uid,
                    "limits": limits, "stderr": err_file,
                })  # fmt: skip
                provisioner.process = process
                provisioner.pid = provisioner.pgid = process.pid
                manager._reconcile_connection_info(provisioner.connection_info)

            manager._async_launch_kernel = launch  # type: ignore[method-assign]
            return manager

    return WarmRunner
