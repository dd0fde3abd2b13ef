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

Design. ``bwrap`` starts ``_sandbox_runner.py`` (bound in read-only on its own) with:
- a root made of read-only binds of ``/usr``, an allowlist of ``/etc`` files, the Python
  installation, the virtualenv and the helper package's ``src/`` (installed editable); nothing
  else of the host: not the course directory (``source/``, ``release/``, ``autograder/``,
  ``submitted/``, ``autograded/``, ``gradebook.db``), not ``/root``, ``/home``, ``/work``;
- a fresh scratch folder (host temp dir, deleted afterwards) at ``/home/learner``: the kernel's
  cwd, HOME and TMPDIR and, with a small private ``/dev/shm``, its only writable place; it
  starts with ``extra_files`` and a copy of matplotlib's font list (built once per process from
  a clean HOME; with the read-only system fontconfig cache a first plot costs no font scan);
- its own network namespace (only ``lo``: the runner talks to its kernel over loopback TCP, so
  both live in the sandbox), pid namespace (when the runner ends, bwrap's pid 1 ends and the
  kernel takes every process it started with it), ipc and uts namespaces, a new session.
The runner is uid 0 of the sandbox holding only CAP_SETUID, CAP_SETGID and CAP_KILL; it reads
the notebook (hidden tests included) from stdin and keeps it in memory; it is not dumpable.
It starts the kernel through ``prlimit`` (CPU, address space, processes, open files, file size,
no core) as a dedicated uid (a high base + the host pid of bwrap, unique while it runs, so
RLIMIT_NPROC counts only this kernel) with no capabilities and no_new_privs: learner code can
neither ptrace nor read the runner through /proc, nor signal it, nor read root-only files.
With ``prestart=True`` the next sandbox (bwrap, runner, kernel) boots while the caller does its
own work and waits for its notebook; each sandbox still runs exactly one notebook.
Every cell's output is cut at ``max_output_bytes`` as it arrives; the host reads at most
``MAX_RESULT_BYTES`` from the runner and kills the process group at ``total_timeout`` +
``HOST_MARGIN`` whatever happens inside. Submitted outputs are discarded; a code cell that did not
run gets an error output saying why, so a grader never mistakes "no output" for "passed".

NOT protected against:
- cheating inside the kernel: learner code runs before the hidden tests in the same interpreter,
  so it can monkeypatch ``asyncourse``/builtins, or capture a hidden test's source when it runs
  (e.g. an IPython ``pre_run_cell`` hook) and print it into that cell's output. Feedback should
  not show hidden test cells' outputs verbatim; score checks belong outside the kernel.
- kernel exploits: namespaces share the host kernel, so a Linux kernel bug is a way out. A small
  seccomp filter (x86_64 only) refuses new user namespaces, setns, bpf, keyctl, io_uring,
  userfaultfd and perf events, which removes the usual first steps, not every kernel bug.
- CPU and memory of the whole machine: limits are per process (RLIMIT_AS per process, up to
  ``max_processes`` of them), not a cgroup; run fewer sandboxes in parallel than cores.
- disk: each file is capped (``max_file_bytes``) but not the number of files in scratch.
- loopback inside the sandbox: learner code can connect to its own kernel's ports.
- a readable ``/usr`` and ``/etc`` allowlist: anything world-readable there is visible.
Requires root on the host (to give the kernel its own uid) and bubblewrap (``bwrap``).
"""

from __future__ import annotations

import atexit
import contextlib
import copy
import dataclasses
import functools
import io
import json
import os
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import nbformat

_node = cast(Callable[[Any], nbformat.NotebookNode], nbformat.from_dict)
REPO = Path(__file__).resolve().parents[1]
RUNNER = Path(__file__).with_name("_sandbox_runner.py")
RUNNER_IN_SANDBOX = "/opt/asyncourse-sandbox/runner.py"
WORKDIR = "/home/learner"
MAX_RESULT_BYTES = 32 << 20  # bytes the host accepts from the runner's stdout
HOST_MARGIN = 10.0  # seconds past total_timeout before the host kills the sandbox
INSTALL = "apt-get install bubblewrap"
ETC_ALLOWLIST = (
    "passwd", "group", "hosts", "nsswitch.conf", "host.conf", "localtime", "ld.so.cache",
    "ld.so.conf", "ld.so.conf.d", "mime.types", "fonts", "ssl/openssl.cnf", "alternatives",
)  # fmt: skip
SANDBOX_ENV = {
    "HOME": WORKDIR,
    "TMPDIR": WORKDIR,
    "USER": "learner",
    "LOGNAME": "learner",
    "LANG": "C.UTF-8",
    "LC_ALL": "C.UTF-8",
    "TZ": "UTC",
    "PYTHONHASHSEED": "0",
    "PYTHONDONTWRITEBYTECODE": "1",
    "MPLBACKEND": "Agg",
    "JUPYTER_PLATFORM_DIRS": "1",
    "PYDEVD_DISABLE_FILE_VALIDATION": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "MALLOC_ARENA_MAX": "2",  # threads otherwise reserve 64 MB of address space each
}


class SandboxUnavailable(RuntimeError):
    """bubblewrap is missing or cannot build a sandbox here; learner code is never run bare."""


@dataclass(frozen=True)
class Limits:
    """Per-notebook limits; the defaults suit one asyncio exercise notebook."""

    cell_timeout: float = 60.0  # wall seconds per cell (then SIGINT, then kill)
    total_timeout: float = 300.0  # wall seconds for all cells (+ kernel start unless prestarted)
    cpu_seconds: int = 120  # CPU seconds of the kernel process
    memory_bytes: int = 1 << 30  # address space per process
    max_processes: int = 64  # processes + threads of the kernel's uid
    max_open_files: int = 256
    max_output_bytes: int = 1 << 20  # per cell output text; longer output is truncated with a note
    max_file_bytes: int = 64 << 20  # largest file the kernel may write

    def __post_init__(self) -> None:
        for field in dataclasses.fields(self):
            if not getattr(self, field.name) > 0:
                raise ValueError(f"Limits.{field.name} must be positive")


@dataclass
class Execution:
    """The result of one sandboxed run.

    `outcome` is "ok" (every cell ran; errors raised by cells are in their outputs),
    "timeout", "kernel-died", "memory" or "error" (the sandbox itself failed). `reason` is a
    learner-facing sentence naming the cell, e.g. "ran past the time limit in cell 4"; cells are
    numbered from 1 over all cells, markdown included, and `failed_cell` is that number
    (``notebook.cells[failed_cell - 1]``). `detail` is for the instructor (kernel stderr tail).
    """

    notebook: nbformat.NotebookNode
    outcome: str
    reason: str | None
    failed_cell: int | None
    detail: str | None = None
    seconds: float = 0.0

    def __repr__(self) -> str:
        where = f", cell {self.failed_cell}" if self.failed_cell else ""
        return f"Execution({self.outcome!r}{where}, reason={self.reason!r}, {self.seconds:.1f} s)"


def execute_sandboxed(
    nb: nbformat.NotebookNode,
    *,  # shared defaults are safe: Limits is frozen and the mappings are only read
    limits: Limits = Limits(),
    extra_files: Mapping[str, bytes] = {},
    env: Mapping[str, str] = {},
    prestart: bool = False,
) -> Execution:
    """Run every code cell of `nb` in a fresh sandbox and return the executed copy.

    `extra_files` (relative path -> content) are written to the kernel's cwd first; `env` is
    added to the kernel's environment. Learner behaviour never raises: it becomes the outcome.
    With `prestart`, a spare sandbox with the same limits and env is started before returning
    (kernel booting in the background, no notebook yet); the next call in this process uses it
    and skips the kernel start (~1 s). Each sandbox still runs exactly one notebook.
    Raises `SandboxUnavailable` if bubblewrap cannot run, ValueError for a bad file name.
    """
    bwrap = _check_available()
    for name in extra_files:
        _check_name(name)
    started = time.monotonic()
    request_nb = _without_outputs(nb)
    key = _key(limits, env)
    box = _take_spare(key) or _Sandbox(bwrap, limits, env, key)
    try:
        events, problem, stderr = box.run(request_nb, extra_files)
    finally:
        box.discard()
    if prestart:
        with contextlib.suppress(Exception):  # a spare is an optimisation: never lose the result
            _set_spare(_Sandbox(bwrap, limits, env, key))
    return _assemble(request_nb, events, problem, stderr, time.monotonic() - started)


def discard_spare() -> None:
    """Stop the prestarted sandbox, if any (also done at interpreter exit)."""
    _set_spare(None)


# ----------------------------------------------------------------------------- host plumbing


@functools.lru_cache(maxsize=1)
def _check_available() -> str:
    """Path of a working bwrap (checked once per process), else SandboxUnavailable."""
    bwrap = shutil.which("bwrap")
    if not bwrap:
        raise SandboxUnavailable(f"bubblewrap (bwrap) is not installed: {INSTALL}")
    if os.geteuid() != 0:
        raise SandboxUnavailable(
            "the sandbox runs learner code as a separate uid and needs root; run the grader as root"
        )
    if not os.path.exists("/usr/bin/prlimit"):
        raise SandboxUnavailable("prlimit (util-linux) is missing: apt-get install util-linux")
    probe = [bwrap, *_namespace_args(), *_system_binds(), "--", "/usr/bin/true"]
    try:
        done = subprocess.run(probe, capture_output=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise SandboxUnavailable(f"bubblewrap does not run here: {exc}") from exc
    if done.returncode != 0:
        err = done.stderr.decode(errors="replace").strip()
        raise SandboxUnavailable(f"bubblewrap cannot build a sandbox here: {err} ({INSTALL})")
    return bwrap


def _namespace_args() -> list[str]:
    return [
        "--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts",
        "--unshare-cgroup-try", "--hostname", "sandbox", "--die-with-parent", "--new-session",
        "--cap-drop", "ALL", "--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID",
        "--cap-add", "CAP_KILL",
    ]  # fmt: skip


def _system_binds() -> list[str]:
    args = ["--ro-bind", "/usr", "/usr"]
    for top in ("bin", "sbin", "lib", "lib32", "lib64", "libx32"):
        path = Path("/") / top
        if path.is_symlink():
            args += ["--symlink", os.readlink(path), str(path)]
        elif path.is_dir():
            args += ["--ro-bind", str(path), str(path)]
    if os.path.isdir("/var/cache/fontconfig"):  # system font cache: fc-list need not rebuild it
        args += [*_parents("/var/cache/fontconfig")]
        args += ["--ro-bind", "/var/cache/fontconfig", "/var/cache/fontconfig"]
    for name in ETC_ALLOWLIST:
        if os.path.exists(f"/etc/{name}"):
            args += [*_parents(f"/etc/{name}"), "--ro-bind", f"/etc/{name}", f"/etc/{name}"]
    args += ["--proc", "/proc", "--dev", "/dev"]
    args += ["--perms", "0755", "--size", str(64 << 20), "--tmpfs", "/tmp"]
    args += ["--perms", "1777", "--size", str(64 << 20), "--tmpfs", "/dev/shm"]
    return args


def _python_binds() -> list[str]:
    """The interpreter, the venv and the editable helper package, read-only at their paths."""
    roots = {Path(sys.base_prefix).resolve(), Path(sys.prefix), Path(sys.prefix).resolve()}
    exe = Path(sys.executable)
    roots.add(exe.resolve().parent.parent)
    src = REPO / "src"
    if src.is_dir():
        roots.add(src)
    args: list[str] = []
    for root in sorted(roots, key=lambda p: len(p.parts)):
        if str(root).startswith(("/usr/", "/bin", "/lib")) or str(root) == "/usr":
            continue
        if root == REPO or root in REPO.parents:
            raise SandboxUnavailable(
                f"Python lives in {root}, which holds the course: cannot hide it"
            )
        args += [*_parents(root), "--ro-bind", str(root), str(root)]
    return args


def _parents(path: Path | str) -> list[str]:
    """Create the ancestors of a bind target traversable (bwrap would make them 0700)."""
    args: list[str] = []
    for parent in reversed(Path(path).parents[:-1]):
        args += ["--perms", "0755", "--dir", str(parent)]
    return args


# seccomp (classic BPF, x86_64 only): refuse new user namespaces (a nested "root" is the usual
# first step of a kernel exploit) and a few rarely needed, often exploited syscalls.
_X86_64 = 0xC000003E
_ALLOW, _ERRNO = 0x7FFF0000, 0x00050000
_EPERM, _ENOSYS = 1, 38
_CLONE_NEWUSER = 0x10000000
_SYS_CLONE, _SYS_UNSHARE, _SYS_CLONE3 = 56, 272, 435
_SYS_DENIED = {
    "setns": 308, "keyctl": 250, "add_key": 248, "request_key": 249, "bpf": 321,
    "perf_event_open": 298, "userfaultfd": 323, "io_uring_setup": 425, "kexec_load": 246,
    "open_by_handle_at": 304, "init_module": 175, "finit_module": 313,
}  # fmt: skip


def _seccomp_program() -> bytes | None:
    """The filter for bwrap --seccomp, or None off x86_64 (then user namespaces stay allowed)."""
    if os.uname().machine != "x86_64":
        return None
    ld, jeq, jge, jset, ret = 0x20, 0x15, 0x35, 0x45, 0x06

    def op(code: int, k: int, jt: int = 0, jf: int = 0) -> bytes:
        return struct.pack("HBBI", code, jt, jf, k)

    denied = sorted(_SYS_DENIED.values())
    n = len(denied)
    prog = [
        op(ld, 4),  # arch
        op(jeq, _X86_64, 1, 0),
        op(ret, _ERRNO | _ENOSYS),  # i386 / other ABIs entered from this process
        op(ld, 0),  # syscall number
        op(jge, 0x40000000, 0, 1),  # x32 ABI
        op(ret, _ERRNO | _ENOSYS),
        op(jeq, _SYS_CLONE3, 0, 1),  # flags behind a pointer: make glibc fall back to clone
        op(ret, _ERRNO | _ENOSYS),
        op(jeq, _SYS_CLONE, n + 3, 0),  # -> flag check
        op(jeq, _SYS_UNSHARE, n + 2, 0),  # -> flag check
        *(op(jeq, nr, n - i, 0) for i, nr in enumerate(denied)),  # -> EPERM
        op(ret, _ALLOW),
        op(ret, _ERRNO | _EPERM),
        op(ld, 16),  # low half of args[0]: the clone/unshare flags
        op(jset, _CLONE_NEWUSER, 0, 1),
        op(ret, _ERRNO | _EPERM),
        op(ret, _ALLOW),
    ]
    return b"".join(prog)


def _bwrap_argv(bwrap: str, scratch: Path, seccomp_fd: int | None) -> list[str]:
    return [
        bwrap,
        *_namespace_args(),
        *(["--seccomp", str(seccomp_fd)] if seccomp_fd is not None else []),
        *_system_binds(),
        *_python_binds(),
        *_parents(RUNNER_IN_SANDBOX),
        "--ro-bind", str(RUNNER), RUNNER_IN_SANDBOX,
        *_parents(WORKDIR),
        "--bind", str(scratch), WORKDIR,
        "--chdir", "/tmp",
        "--",
        sys.executable, "-I", "-B", RUNNER_IN_SANDBOX,
    ]  # fmt: skip


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
    raise SandboxUnavailable("no free block of uids is mapped in this container for the kernel")


def _check_name(name: str) -> Path:
    rel = Path(name)
    if rel.is_absolute() or ".." in rel.parts or not rel.parts:
        raise ValueError(f"extra file names must be relative paths inside scratch: {name!r}")
    return rel


def _write_files(scratch: Path, files: Mapping[str, bytes], uid: int) -> None:
    """Write the files and hand them (and new folders) to the kernel's uid."""
    for name, content in files.items():
        target = scratch / _check_name(name)
        for parent in reversed(target.relative_to(scratch).parents[:-1]):
            if not (scratch / parent).exists():
                (scratch / parent).mkdir()
                os.lchown(scratch / parent, uid, uid)
        target.write_bytes(content)
        os.lchown(target, uid, uid)


def _without_outputs(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """A copy with submitted outputs dropped: only what runs here may count."""
    clean = copy.deepcopy(nb)
    for cell in clean.cells:
        if isinstance(cell.get("source"), list):  # the on-disk form: lines
            cell.source = "".join(cell.source)
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    return clean


class _Sandbox:
    """One bwrap + runner, started with limits and env; it runs exactly one notebook.

    Line 1 on the runner's stdin (limits, uid, env) lets it start the kernel at once; line 2
    (the notebook) may follow much later: the runner's clock starts when it arrives.
    """

    def __init__(
        self, bwrap: str, limits: Limits, env: Mapping[str, str], key: tuple[Any, ...]
    ) -> None:
        self.limits, self.key = limits, key
        self.tmp = tempfile.TemporaryDirectory(
            prefix="asyncourse-sandbox-", ignore_cleanup_errors=True
        )
        self.scratch = Path(self.tmp.name) / "home"
        self.scratch.mkdir(mode=0o755)
        os.chmod(self.scratch, 0o755)  # the runner (no CAP_DAC_*) enters it to start the kernel
        program, base = _seccomp_program(), _uid_base()
        with tempfile.TemporaryFile(dir=self.tmp.name) as filt:
            filt.write(program or b"")
            filt.seek(0)
            fd = filt.fileno() if program else None
            self.proc = subprocess.Popen(
                _bwrap_argv(bwrap, self.scratch, fd),
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                env=_runner_env(),
                start_new_session=True,
                pass_fds=(fd,) if fd is not None else (),
            )
        self.uid = base + self.proc.pid  # unique while this bwrap runs
        try:
            os.lchown(self.scratch, self.uid, self.uid)
            fonts = _font_cache()
            if fonts is not None:
                _write_files(
                    self.scratch, {f".cache/matplotlib/{fonts.name}": fonts.read_bytes()}, self.uid
                )
        except OSError:
            self.discard()
            raise
        self.events: list[dict[str, Any]] = []
        self.problem: list[str] = []
        self.tail = bytearray()
        self.threads = [
            threading.Thread(target=f, daemon=True) for f in (self._read_stdout, self._read_stderr)
        ]
        for thread in self.threads:
            thread.start()
        setup = {
            "limits": dataclasses.asdict(limits),
            "kernel_uid": self.uid,
            "kernel_env": {**SANDBOX_ENV, "PATH": _sandbox_path(), **env},
        }
        self._write(json.dumps(setup).encode() + b"\n")

    def alive(self) -> bool:
        return self.proc.poll() is None and not self.problem

    def run(
        self, nb: nbformat.NotebookNode, files: Mapping[str, bytes]
    ) -> tuple[list[dict[str, Any]], str | None, str]:
        """Send the notebook, wait at most total_timeout + HOST_MARGIN; events, problem, stderr."""
        _write_files(self.scratch, files, self.uid)
        request = json.dumps({"notebook": nb}).encode() + b"\n"
        deadline = time.monotonic() + self.limits.total_timeout + HOST_MARGIN
        writer = threading.Thread(target=self._write, args=(request, True), daemon=True)
        writer.start()  # a thread: a runner that stops reading must not block the host
        try:
            self.proc.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            self.problem.append("timeout")
            _kill(self.proc)
        for thread in [writer, *self.threads]:
            thread.join(timeout=5)
        return self.events, (self.problem[0] if self.problem else None), self.stderr()

    def stderr(self) -> str:
        return self.tail.decode(errors="replace")

    def discard(self) -> None:
        _kill(self.proc)
        self.tmp.cleanup()

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
                    _kill(self.proc)
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


_spare: _Sandbox | None = None
_spare_lock = threading.Lock()


def _key(limits: Limits, env: Mapping[str, str]) -> tuple[Any, ...]:
    return (limits, tuple(sorted(env.items())))


def _take_spare(key: tuple[Any, ...]) -> _Sandbox | None:
    global _spare
    with _spare_lock:
        box, _spare = _spare, None
    if box is not None and box.key == key and box.alive():
        return box
    if box is not None:
        box.discard()
    return None


def _set_spare(box: _Sandbox | None) -> None:
    global _spare
    with _spare_lock:
        old, _spare = _spare, box
    if old is not None:
        old.discard()


atexit.register(discard_spare)


def _kill(proc: subprocess.Popen[bytes]) -> None:
    """SIGKILL bwrap's process group; --die-with-parent then takes down the sandbox's pid 1."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=5)
    for stream in (proc.stdin, proc.stdout, proc.stderr):
        if stream is not None:
            with contextlib.suppress(OSError):
                stream.close()


def _assemble(
    nb: nbformat.NotebookNode,
    events: list[dict[str, Any]],
    problem: str | None,
    stderr: str,
    seconds: float,
) -> Execution:
    done: set[int] = set()
    last_started: int | None = None
    end: dict[str, Any] | None = None
    for event in events:
        kind = event.get("event")
        if kind == "start":
            last_started = int(event["index"])
        elif kind == "done":
            index = int(event["index"])
            nb.cells[index].outputs = [_node(out) for out in event["outputs"]]
            nb.cells[index].execution_count = event.get("execution_count")
            done.add(index)
        elif kind == "end":
            end = event
    where = f" in cell {last_started + 1}" if last_started is not None else ""
    cell = last_started + 1 if last_started is not None else None
    if problem == "too-much":
        outcome, reason, failed, detail = (
            "error",
            f"the notebook wrote more output than the grader accepts{where}",
            cell,
            None,
        )
    elif problem == "timeout":
        outcome, reason, failed, detail = "timeout", f"ran past the time limit{where}", cell, None
    elif end is not None:
        outcome, reason, failed = end["outcome"], end["reason"], end["failed_cell"]
        detail = end.get("detail")
        if end.get("language_info"):
            nb.metadata.language_info = _node(end["language_info"])
    else:
        outcome, reason, failed = "error", f"the grading sandbox stopped unexpectedly{where}", cell
        detail = stderr[-4000:] or None
    for index, c in enumerate(nb.cells):
        if c.cell_type == "code" and c.source.strip() and index not in done:
            why = f"not run: {reason}" if reason else "not run"
            c.outputs = [
                _node(
                    {"output_type": "error", "ename": "NotRun", "evalue": why, "traceback": [why]}
                )
            ]
    return Execution(nb, outcome, reason, failed, detail, seconds)
