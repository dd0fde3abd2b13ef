"""Execute an untrusted learner notebook (with its hidden tests) inside a bubblewrap sandbox.

Why. Plain nbgrader runs the kernel as the grader, in the course directory: a submission deleted
``gradebook.db``, printed ``source/`` (solutions and hidden tests) into its own feedback, and
``os._exit(1)`` or an ignored SIGINT left nbgrader without a result. nbclient has per-cell
timeouts but no isolation, no resource limits and no output cap, so this module adds them.

Why bubblewrap. It is a small, audited Debian package (the sandbox of Flatpak) that builds
mount, pid, network, ipc and uts namespaces from a command line, with ``--die-with-parent``;
no daemon, no image, ~10 ms to start. Docker/podman need a daemon and images; firejail is a
large setuid program driven by profiles; nsjail is not packaged in Debian; hand-written
``unshare``/mount code would be a worse copy of bwrap.

Design. ``bwrap`` starts the runner (``_runner.py``, bound in read-only on its own; bwrap's own
arguments come on a descriptor, so ``/proc/1/cmdline`` shows no host path) with:
- a root made of read-only binds of ``/usr``, an allowlist of ``/etc`` files, the Python
  installation and the virtualenv, and the helper package's folder at a neutral path
  (``/opt/asyncourse-sandbox/helper``); nothing else of the host: not the course directory
  (``source/``, ``release/``, ``autograder/``, ``submitted/``, ``autograded/``,
  ``gradebook.db``), not ``/root``, ``/home``, ``/work``;
- a scratch folder at ``/home/learner``: a tmpfs of its own (``scratch_bytes``,
  ``scratch_files`` inodes) mounted by the host and removed afterwards, the kernel's cwd, HOME
  and TMPDIR and, with a small private ``/dev/shm``, its only writable place; it starts with
  ``extra_files``, the guard's key (read and deleted by the guard before learner code) and a copy
  of matplotlib's font list;
- its own network namespace (only ``lo``: the runner talks to its kernel over loopback TCP, so
  both live in the sandbox), pid namespace (when the runner ends, bwrap's pid 1 ends and the
  kernel takes every process it started with it), ipc and uts namespaces, a new session;
- its own cgroup (memory, pids, CPU, joined before bwrap starts; see ``_cgroups``) where one can
  be made, and a seccomp filter (``_seccomp``: libseccomp, or a hand-written x86_64 fallback).
The runner is uid 0 of the sandbox holding only CAP_SETUID and CAP_SETGID, which it drops once the
kernel runs (interrupts go by message; the sandbox, kernel included, ends when the runner does);
it reads the notebook (hidden tests included) from stdin and keeps it in memory; it is not
dumpable; the file behind the kernel's stderr is root's, mode 0600. It starts the kernel through
``prlimit`` (CPU, address space, processes, open files, file size, no core) as a dedicated uid (a
high base + the host pid of bwrap, unique while it runs, so RLIMIT_NPROC counts only this kernel)
with no capabilities and no_new_privs: learner code can neither ptrace nor read the runner through
/proc, nor signal it, nor read root-only files. Before any learner code, the runner installs the
guard (``_guard``) in the kernel; a graded cell passes only with the kernel's ``ok`` reply and the
guard's authenticated evidence that the cell ran to its end untampered.
With ``prestart=True`` the next sandbox (bwrap, runner, kernel) boots while the caller does its
own work and waits for its notebook; each sandbox still runs exactly one notebook.
Every cell's output (text, every MIME type, metadata) is cut at ``max_output_bytes`` as it
arrives, an error is never dropped; the host reads at most ``MAX_RESULT_BYTES`` from the runner
and kills the process group at ``total_timeout`` + ``HOST_MARGIN`` whatever happens inside.
Submitted outputs are discarded; a code cell that did not run gets an error output saying why.

Protected inside the kernel (the guard; what the hostile corpus proves): hidden exceptions
(custom exception handlers, silenced tracebacks, post_run_cell callbacks, rewritten replies or
``do_execute``), rewritten cells (input and AST transformers, even ones that remove themselves),
replaced builtins, asyncio, asyncourse or math functions, a locked cell's names rebound, tracing
and profiling hooks, gc/ctypes introspection (the guard's key is destroyed), notebook threads,
signal handlers and timers, ``weakref.finalize`` and ``gc`` callbacks: the tests from the moment
a change is seen score 0, with the reason. Feedback never shows a hidden test's code (tracebacks
keep the learner's frames only, printed output of a hidden test is not shown).

Warm start (`_warm`, the default where its template starts): the same sandbox, made by a template
process (itself in such a bubblewrap sandbox, with CAP_SYS_ADMIN, CAP_NET_ADMIN and CAP_SETPCAP
besides) that forks each learner's namespaces, fresh /proc and tmpfs, loopback and cgroup inside
its own; the kernel is a fork of the runner (no new interpreter), with the same uid, rlimits,
no_new_privs and seccomp. Added risk: a bug in the template's few privileged steps (it never runs
learner code, and a learner's pid namespace cannot see it); the kernel's memory starts as a copy
of the template's (modules only: nothing of another learner, whose sandbox was forked apart).

NOT protected against:
- cheating inside the kernel that leaves no trace at a cell boundary: learner code runs in the
  same interpreter as the tests, and the tests call it, so it can change what the test statement
  that called it sees and put everything back before the next statement (the guard checks between
  statements, not during one); a value a test stores in the notebook's namespace before it calls
  learner code can be mutated in place by that code; patches made through ctypes before the
  guard could see them; a thread that patches and restores within one statement.
- kernel exploits: namespaces share the host kernel, so a Linux kernel bug is a way out. The
  seccomp filter refuses new user namespaces, setns, bpf, keyctl, io_uring, userfaultfd and perf
  events, which removes the usual first steps, not every kernel bug.
- where cgroups cannot be written, memory and processes are bounded per process only (the
  summary says so); where tmpfs cannot be mounted, the number of files in scratch is not.
- loopback inside the sandbox: learner code can connect to its own kernel's ports.
- a readable ``/usr`` and ``/etc`` allowlist: anything world-readable there is visible; the
  Python installation and virtualenv are visible at their paths (the kernel is that Python).
Requires root on the host (to give the kernel its own uid) and bubblewrap (``bwrap``).
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import os
import shutil
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from . import _bwrap, _cgroups, _seccomp
from ._backend import KERNEL_ENV, BackendUnavailable, RunnerBackend
from ._limits import Limits
from ._process import Launch, private_tmp, write_files

__all__ = ["SandboxBackend"]

INSTALL = "apt-get install bubblewrap"
SANDBOX_TASKS = 48  # threads of bwrap, the runner and an idle kernel, besides the learner's
SANDBOX_ENV = {
    **KERNEL_ENV,
    "HOME": _bwrap.WORKDIR,
    "TMPDIR": _bwrap.WORKDIR,
    "USER": "learner",
    "LOGNAME": "learner",
    "JUPYTER_PLATFORM_DIRS": "1",
}


class SandboxBackend(RunnerBackend):
    """Runs each notebook in its own bubblewrap sandbox (see the module's docstring).

    `hidden` are host folders the sandbox must never show (the course): a bind that would show
    one is refused at `check`.
    """

    name = "sandbox"

    def __init__(self, *, prestart: bool = True, hidden: Iterable[Path] = ()) -> None:
        super().__init__(prestart=prestart)
        self.hidden = tuple(Path(h).resolve() for h in hidden)

    def check(self) -> None:
        """bwrap, root, prlimit and a probe sandbox (checked once per process)."""
        problem = _unavailable()
        if problem:
            raise BackendUnavailable(problem)
        try:
            _bwrap.python_binds(self.hidden)
        except _bwrap.Exposes as err:
            raise BackendUnavailable(str(err)) from err

    def describe(self) -> str:
        groups = _cgroups.support()
        whole = (f"a {groups} group per sandbox" if groups else
                 "per-process limits only (no writable cgroup here: a sandbox's processes "
                 "together are not bounded)")
        scratch = ("a tmpfs of its own as working folder" if _tmpfs_works() else
                   "a plain working folder (tmpfs cannot be mounted here: its file count is not "
                   "bounded)")
        return f"in the bubblewrap sandbox, {whole}, {scratch}, seccomp {_seccomp.source()}"

    def launch(self, env: Mapping[str, str], limits: Limits) -> Launch:
        bwrap = shutil.which("bwrap") or "bwrap"
        tmp = private_tmp("asyncourse-sandbox-")
        scratch = Path(tmp.name) / "home"
        scratch.mkdir(mode=0o755)
        mounted = _scratch_tmpfs(scratch, limits)
        os.chmod(scratch, 0o755)  # the runner (no CAP_DAC_*) enters it to start the kernel
        files: list[Any] = []  # closed by cleanup
        program = _seccomp.program()
        seccomp_fd = _fd_with(program, tmp.name, files) if program else None
        args = _bwrap.arguments(scratch, seccomp_fd, self.hidden)
        args_fd = _fd_with(b"".join(a.encode() + b"\0" for a in args), tmp.name, files)
        group = _cgroups.Cgroup.create(limits.sandbox_memory_bytes,
                                       limits.max_processes + SANDBOX_TASKS, 1.0)

        def cleanup() -> None:
            for f in files:
                f.close()
            if mounted:
                subprocess.run(["umount", "-l", str(scratch)], capture_output=True, check=False)
            tmp.cleanup()
            if group is not None:
                group.remove()

        base = _uid_base()
        join = group.join_command() if group is not None else []
        kernel_env = {**SANDBOX_ENV, "PATH": _sandbox_path(), **env}
        if _bwrap.helper_package_root() is not None:
            kernel_env["PYTHONPATH"] = _bwrap.HELPER_IN_SANDBOX
        return Launch(
            argv=[*join, bwrap, "--args", str(args_fd), *_bwrap.command()],
            env=_runner_env(),
            setup={"kernel_env": kernel_env, "workdir": _bwrap.WORKDIR, "private": "/tmp/runner",
                   "runtime": "/tmp/runtime", "guard": _bwrap.GUARD_IN_SANDBOX},
            scratch=scratch,
            cleanup=cleanup,
            uid_of=lambda pid: base + pid,  # unique while this bwrap runs
            prepare=_prepare_scratch,
            pass_fds=tuple(f.fileno() for f in files),
            oom_killed=group.oom_killed if group is not None else (lambda: False),
            cpu_used=group.cpu_seconds if group is not None else (lambda: None),
        )


def _fd_with(data: bytes, folder: str, keep: list[Any]) -> int:
    """A descriptor bwrap can read `data` from (the seccomp program, its own arguments)."""
    f = tempfile.TemporaryFile(dir=folder)  # noqa: SIM115  (closed by the sandbox's cleanup)
    f.write(data)
    f.seek(0)
    keep.append(f)
    return f.fileno()


@functools.lru_cache(maxsize=1)
def _tmpfs_works() -> bool:
    with tempfile.TemporaryDirectory() as probe:
        if not _scratch_tmpfs(Path(probe), Limits()):
            return False
        subprocess.run(["umount", "-l", probe], capture_output=True, check=False)
    return True


def _scratch_tmpfs(scratch: Path, limits: Limits) -> bool:
    """Make scratch a tmpfs of its own: its size and file count are bounded (a file-count bomb
    stops at ``scratch_files``). False where it cannot be mounted (the folder stays a folder)."""
    options = f"size={limits.scratch_bytes},nr_inodes={limits.scratch_files},mode=0755"
    try:
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "asyncourse-scratch",
                               str(scratch)], capture_output=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


def _prepare_scratch(scratch: Path, uid: int | None) -> None:
    """Hand scratch to the kernel's uid, with a copy of matplotlib's font list in it."""
    assert uid is not None
    os.lchown(scratch, uid, uid)
    fonts = _font_cache()
    if fonts is not None:
        write_files(scratch, {f".cache/matplotlib/{fonts.name}": fonts.read_bytes()}, uid)


@functools.lru_cache(maxsize=1)
def _unavailable() -> str | None:
    """Why a sandbox cannot run on this machine, or None (checked once per process)."""
    bwrap = shutil.which("bwrap")
    if not bwrap:
        return f"bubblewrap (bwrap) is not installed: {INSTALL}"
    if os.geteuid() != 0:
        return "the sandbox runs learner code as a separate uid and needs root; run as root"
    if not os.path.exists("/usr/bin/prlimit"):
        return "prlimit (util-linux) is missing: apt-get install util-linux"
    probe = [bwrap, *_bwrap.namespace_args(), *_bwrap.system_binds(), "--", "/usr/bin/true"]
    try:
        done = subprocess.run(probe, capture_output=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"bubblewrap does not run here: {exc}"
    if done.returncode != 0:
        err = done.stderr.decode(errors="replace").strip()
        return f"bubblewrap cannot build a sandbox here: {err} ({INSTALL})"
    try:
        _uid_base()
    except BackendUnavailable as err:
        return str(err)
    return None


def _runner_env() -> dict[str, str]:
    return {
        "PATH": _sandbox_path(),
        "HOME": "/tmp/runner",
        "LANG": "C.UTF-8",
        "JUPYTER_PLATFORM_DIRS": "1",
        "JUPYTER_CONFIG_DIR": "/tmp/runner/config",
        "JUPYTER_DATA_DIR": "/tmp/runner/data",
        "JUPYTER_RUNTIME_DIR": "/tmp/runtime",
        "PYDEVD_DISABLE_FILE_VALIDATION": "1",
    }


def _sandbox_path() -> str:
    return f"{Path(sys.executable).parent}:/usr/local/bin:/usr/bin:/bin"


@functools.lru_cache(maxsize=1)
def _uid_base() -> int:
    """First uid of a block of pid_max unused-by-convention uids that this host can map."""
    try:
        pid_max = int(Path("/proc/sys/kernel/pid_max").read_text())
    except (OSError, ValueError):
        pid_max = 1 << 22
    ranges = []
    with contextlib.suppress(OSError):
        for line in Path("/proc/self/uid_map").read_text().splitlines():
            inside, _outside, count = (int(x) for x in line.split())
            ranges.append((inside, inside + count))
    for preferred in (1_500_000_000, 200_000):
        if not ranges or any(a <= preferred and preferred + pid_max < b for a, b in ranges):
            return preferred
    raise BackendUnavailable("no free block of uids is mapped in this container for the kernel")


_font_lock = threading.Lock()


def _font_cache() -> Path | None:
    """matplotlib's font list, built once per process from a clean HOME (trusted, not learner
    made): each sandbox gets a copy, so a first plot does not spend ~0.5 s scanning fonts."""
    with _font_lock:  # threads starting sandboxes together build it once
        return _build_font_cache()


@functools.lru_cache(maxsize=1)
def _build_font_cache() -> Path | None:
    home = Path(tempfile.mkdtemp(prefix="asyncourse-fonts-"))
    atexit.register(shutil.rmtree, home, True)
    env = {"HOME": str(home), "MPLCONFIGDIR": str(home), "PATH": _sandbox_path()}
    try:
        subprocess.run(
            [sys.executable, "-I", "-c", "import matplotlib.font_manager"],
            env=env, capture_output=True, timeout=120, check=True,
        )  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return None
    return next(iter(sorted(home.glob("fontlist-*.json"))), None)
