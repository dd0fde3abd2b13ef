"""The warm template: a process that has imported everything and forks one sandbox per learner.

Started once per grading process by `_warm` (inside bubblewrap, like a cold sandbox; or as a
plain process for trusted runs), it imports what a runner and a kernel need (nbclient,
jupyter_client, ZeroMQ, ipykernel, IPython, matplotlib and its Agg backend, the helper package),
freezes those objects for the garbage collector, and then only waits for requests on its control
socket. It never runs learner code, never starts a kernel or an event loop, and holds no thread.

A request is one message with descriptors (``socket.send_fds``): the runner's stdin, stdout and
stderr pipes, a control socket of that learner's own, and the ``cgroup.procs`` files of that
learner's cgroup (opened by the host). For it the template forks:

- the *holder*, which makes a new pid namespace for its children and forks
- the sandbox's *init* (pid 1 there), which joins the learner's cgroup (every process after it is
  in it), unshares mount, network, ipc, uts and cgroup namespaces, makes every mount private,
  mounts a fresh ``/proc`` (its ``sys``, ``sysrq-trigger``, ``irq`` and ``bus`` read-only, as
  bwrap does), fresh tmpfs at ``/tmp``, ``/dev/shm`` and the kernel's folder (``scratch_bytes``,
  ``scratch_files``), a new ``/dev/pts`` instance, brings ``lo`` up, tells the host it is ready
  (its pid reaches the host through ``SCM_CREDENTIALS``, translated by the kernel into the host's
  pid namespace), forks the runner, gives up every capability and reaps until the runner ends;
- the *runner* (pid 2), with the pipes as its stdin/stdout/stderr and only CAP_SETUID and
  CAP_SETGID (the bounding set too), which forks its kernel's zygote (`_forked`) and runs
  `_runner.main` as a cold sandbox's runner does.

When the runner ends, init ends, and the kernel takes the whole pid namespace with it. Nothing a
learner's processes can see or write was used by anyone else: namespaces, ``/proc``, the writable
folders and the cgroup are that learner's, made new by a process that has run no one's code.

Trusted runs (``--no-sandbox``, Validate on a learner's own server) skip the namespaces: the
template forks the runner directly, the kernel keeps the user's uid.
"""

from __future__ import annotations

import contextlib
import gc
import importlib.util
import json
import os
import signal
import socket
import struct
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent


def _load(name: str, filename: str) -> Any:
    spec = importlib.util.spec_from_file_location(name, HERE / filename)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


linux = _load("asyncourse_sandbox_linux", os.environ.get("ASYNCOURSE_LINUX", "_linux.py"))
forked = _load("asyncourse_sandbox_forked", os.environ.get("ASYNCOURSE_FORKED", "_forked.py"))
runner = _load("asyncourse_sandbox_runner", os.environ.get("ASYNCOURSE_RUNNER", "_runner.py"))

KEEP_FOR_RUNNER = frozenset({linux.CAP_SETUID, linux.CAP_SETGID})
PROC_COVERED = ("sys", "sysrq-trigger", "irq", "bus")
#: What a cold kernel has imported once it has started and the guard is installed (not
#: ``matplotlib_inline.backend_inline``: importing it inside the kernel is what connects it to
#: IPython, so the kernel imports it itself, as a cold one does).
KERNEL_MODULES = (
    "asyncio", "ipykernel.kernelapp", "ipykernel.ipkernel", "ipykernel.zmqshell", "IPython",
    "IPython.core.completer", "comm", "ipykernel.comm", "ipykernel.debugger", "debugpy",
    "debugpy.server.api", "IPython.core.completerlib", "IPython.core.debugger",
    "IPython.core.logger", "IPython.core.oinspect", "IPython.core.pylabtools",
    "IPython.extensions.storemagic", "IPython.utils.wildcard", "tornado.gen", "tornado.locks",
    "tornado.queues", "tornado.platform.asyncio", "faulthandler", "pdb", "pydoc", "psutil",
    "mimetypes", "jedi", "asyncourse", "nest_asyncio",
)
#: What else the runner and a notebook's first plot import.
MORE_MODULES = (
    "nbclient", "jupyter_client.manager", "zmq.asyncio", "matplotlib", "matplotlib.pyplot",
    "matplotlib.backends.backend_agg", "matplotlib.font_manager",
)


def _address_space() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")


def preload() -> int:
    """Import what every runner and kernel imports (the kernel's modules are never run here).

    Returns the address space the modules a cold kernel would not have loaded yet take: the
    kernel's address-space limit is raised by that much, so that learner code has the same room
    under it as in a cold kernel."""
    for name in KERNEL_MODULES:
        with contextlib.suppress(ImportError):
            importlib.import_module(name)
    cold = _address_space()
    for name in MORE_MODULES:
        importlib.import_module(name)
    import matplotlib

    assert matplotlib.get_backend()  # MPLBACKEND names the inline backend: nothing is switched
    with contextlib.suppress(ImportError):
        from PIL import Image

        Image.preinit()  # the image plugins the first PNG loads
    return max(0, _address_space() - cold)


def main() -> int:
    control = socket.socket(fileno=int(sys.argv[1]))
    sandboxed = sys.argv[2] == "sandbox"
    forked.ADDRESS_SPACE_ALLOWANCE = preload()
    sys.stdout.flush()
    sys.stderr.flush()
    if "matplotlib_inline.backend_inline" in sys.modules:  # see KERNEL_MODULES
        raise RuntimeError("the inline backend was imported outside a kernel")
    if len(os.listdir("/proc/self/task")) != 1:  # a fork copies only the forking thread
        raise RuntimeError("a preloaded module started a thread: the template cannot fork")
    gc.collect()
    gc.freeze()  # forks do not copy pages for the collector's bookkeeping of these objects
    control.send(b"ready")
    while True:
        _reap()
        try:
            message, fds, _flags, _addr = socket.recv_fds(control, 1 << 20, 16)
        except InterruptedError:
            continue
        if not message:
            return 0  # the host is gone
        request = json.loads(message)
        pid = os.fork()
        if pid == 0:
            control.close()
            code = 1
            try:
                (_sandbox if sandboxed else _trusted)(request, fds)
                code = 0
            finally:
                os._exit(code)
        for fd in fds:
            os.close(fd)


def _reap() -> None:
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if not pid:
            return


def _ready(control: socket.socket) -> None:
    """Tell the host this sandbox is ready; the kernel translates our pid into the host's."""
    creds = struct.pack("3i", os.getpid(), os.getuid(), os.getgid())
    control.sendmsg([b"ready"], [(socket.SOL_SOCKET, socket.SCM_CREDENTIALS, creds)])


def _sandbox(request: dict[str, Any], fds: list[int]) -> None:
    """The holder: a pid namespace for the sandbox's init, then wait for it."""
    linux.set_parent_death_signal(signal.SIGKILL)
    linux.unshare(linux.CLONE_NEWPID)
    pid = os.fork()
    if pid == 0:
        _init(request, fds)
        return
    for fd in fds:
        os.close(fd)
    linux.keep_capabilities(frozenset())
    linux.set_dumpable(False)
    while True:
        try:
            os.waitpid(pid, 0)
            return
        except InterruptedError:
            continue
        except ChildProcessError:
            return


def _init(request: dict[str, Any], fds: list[int]) -> None:
    """Pid 1 of a learner's sandbox (see the module docstring); returns when the runner ends."""
    stdin, stdout, stderr, control_fd, *groups = fds
    linux.set_parent_death_signal(signal.SIGKILL)
    for fd in groups:
        os.write(fd, b"0")  # "0": this process; every process it starts is in the group too
        os.close(fd)
    linux.unshare(linux.NAMESPACES)
    linux.mount(None, "/", None, linux.MS_REC | linux.MS_PRIVATE)
    nosuid = linux.MS_NOSUID | linux.MS_NODEV
    linux.mount("proc", "/proc", "proc", nosuid | linux.MS_NOEXEC)
    for name in PROC_COVERED:
        path = f"/proc/{name}"
        if os.path.exists(path):
            linux.mount(path, path, None, linux.MS_BIND | linux.MS_REC)
            linux.mount(None, path, None,
                        linux.MS_BIND | linux.MS_REMOUNT | linux.MS_RDONLY | nosuid)
    limits = request["limits"]
    linux.mount("tmpfs", "/tmp", "tmpfs", nosuid, f"size={64 << 20},mode=0755")
    linux.mount("tmpfs", "/dev/shm", "tmpfs", nosuid, f"size={64 << 20},mode=1777")
    if os.path.isdir("/dev/pts"):
        linux.mount("devpts", "/dev/pts", "devpts", linux.MS_NOSUID | linux.MS_NOEXEC,
                    "newinstance,ptmxmode=0666,mode=620")
    linux.mount("asyncourse-scratch", request["workdir"], "tmpfs", nosuid,
                f"size={limits['scratch_bytes']},nr_inodes={limits['scratch_files']},mode=0755")
    linux.interface_up("lo")
    control = socket.socket(fileno=control_fd)
    _ready(control)
    pid = os.fork()
    if pid == 0:
        control.close()
        _runner(request, stdin, stdout, stderr, KEEP_FOR_RUNNER)
        return
    for fd in (stdin, stdout, stderr):
        os.close(fd)
    linux.keep_capabilities(frozenset())
    linux.set_dumpable(False)
    signal.signal(signal.SIGINT, signal.SIG_DFL)  # pid 1: ignored when sent from inside
    while True:  # pid 1 reaps every orphan; the sandbox ends with the runner
        try:
            child, _ = os.wait()
        except InterruptedError:
            continue
        except ChildProcessError:
            return
        if child == pid:
            return  # control (held until here) closes: the host sees the end


def _trusted(request: dict[str, Any], fds: list[int]) -> None:
    """A runner for trusted notebooks: no namespaces, this user's uid."""
    stdin, stdout, stderr, control_fd, *_ = fds
    os.setsid()
    control = socket.socket(fileno=control_fd)
    _ready(control)
    os.set_inheritable(control.fileno(), False)
    _runner(request, stdin, stdout, stderr, None, keep_open=control.fileno())


def _runner(request: dict[str, Any], stdin: int, stdout: int, stderr: int,
            caps: frozenset[int] | None, keep_open: int | None = None) -> None:
    """Become the runner: the pipes as 0, 1 and 2, then `_runner.main` with a forked kernel."""
    for target, fd in ((0, stdin), (1, stdout), (2, stderr)):
        os.dup2(fd, target)
    if keep_open is None:
        os.closerange(3, 1 << 16)
    else:
        os.closerange(3, keep_open)
        os.closerange(keep_open + 1, 1 << 16)
    if caps is not None:
        linux.keep_capabilities(caps)
    os.environ.clear()
    os.environ.update(request["runner_env"])
    os.chdir(request.get("chdir", "/"))
    zygote = forked.Zygote()
    runner.main(forked.warm_runner(runner, zygote))


if __name__ == "__main__":
    sys.exit(main())
