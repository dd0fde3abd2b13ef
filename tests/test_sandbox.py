"""The grading sandbox against hostile submissions (autograder/execution/_sandbox.py).

Each test runs a small notebook in a real bubblewrap sandbox with small limits, and checks what
the learner code could and could not do, and what the grader is told; every sandbox test runs
against both the cold sandbox and the warm one (forked from a template, `_warm`).
"""

from __future__ import annotations

import dataclasses
import fcntl
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from autograder.execution import (
    BackendUnavailable,
    CellRun,
    Execution,
    Limits,
    SandboxBackend,
    WarmSandboxBackend,
    _process,
    _sandbox,
)
from tests.support.paths import REPO, warm_unavailable

pytestmark = pytest.mark.slow

# Small limits keep the suite quick; timeouts are generous except where they are the point
# (QUICK), so a loaded machine slows the tests down without failing them.
SMALL = Limits(
    cell_timeout=30.0,
    total_timeout=60.0,
    cpu_seconds=30,
    memory_bytes=768 << 20,
    max_processes=48,
    max_output_bytes=64 << 10,
)
QUICK = dataclasses.replace(SMALL, cell_timeout=2.0)
BATCHED = pytest.mark.xdist_group("sandbox-batch")
SIGINT_LIMITS = dataclasses.replace(QUICK, total_timeout=600.0)


ONE_SHOT = SandboxBackend(prestart=False, hidden=[REPO])
WARM = WarmSandboxBackend(prestart=False, hidden=[REPO])
BACKENDS: dict[str, SandboxBackend] = {"cold": ONE_SHOT, "warm": WARM}
KINDS = pytest.mark.parametrize("kind", [
    pytest.param(k, marks=pytest.mark.skipif(k == "warm" and bool(warm_unavailable()),
                                             reason=warm_unavailable() or ""))
    for k in sorted(BACKENDS)])


def execute(nb: nbformat.NotebookNode, limits: Limits = SMALL,
            files: dict[str, bytes] | None = None, backend: SandboxBackend = ONE_SHOT) -> Execution:
    return backend.run(nb, files or {}, {}, limits)


def run(*sources: str, limits: Limits = SMALL, files: dict[str, bytes] | None = None,
        backend: SandboxBackend = ONE_SHOT) -> Execution:
    nb = new_notebook(cells=[new_code_cell(s) for s in sources])
    return execute(nb, limits, files, backend)


def run_on(backend: SandboxBackend, *sources: str, **kw: object) -> Execution:
    return run(*sources, backend=backend, **kw)  # type: ignore[arg-type]


def text(ex: Execution, number: int) -> str:
    """All stream text and error names/values of cell `number` (1-based)."""
    parts = []
    for out in ex.notebook.cells[number - 1].outputs:
        if out.output_type == "stream":
            parts.append(out.text)
        elif out.output_type == "error":
            parts.append(f"{out.ename}: {out.evalue}")
        else:
            parts.append(str(out.get("data", {}).get("text/plain", "")))
    return "".join(parts)


def result(ex: Execution, number: int) -> dict[str, object]:
    """The JSON a cell printed as its last line."""
    return json.loads(text(ex, number).strip().splitlines()[-1])  # type: ignore[no-any-return]


def host_processes_of(uid: int) -> list[int]:
    pids = []
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            lines = status.read_text().splitlines()
        except OSError:
            continue
        uids = next((line.split()[1:] for line in lines if line.startswith("Uid:")), [])
        if str(uid) in uids:
            pids.append(int(status.parent.name))
    return pids


FILES_PROBE = r"""
import errno, json, os, subprocess
def attempt(f):
    try:
        f()
        return "ok"
    except OSError as e:
        return errno.errorcode[e.errno]
def read_kernel_err():
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if target.endswith("kernel.err"):  # the runner's file behind the kernel's own stderr
            open(f"/proc/self/fd/{fd}").read()
            return
    raise FileNotFoundError(errno.ENOENT, "no descriptor of kernel.err")
r = {
    "remove_gradebook": attempt(lambda: os.remove("../../../gradebook.db")),
    "remove_pyproject": attempt(lambda: os.remove("/work/main/pyproject.toml")),
    "read_source": attempt(lambda: os.listdir("/work/main/source")),
    "read_autograder": attempt(lambda: os.listdir("/work/main/autograder")),
    "work_main": sorted(os.listdir("/work/main")),
    "mounts": {line.split()[4]: line.split()[5] for line in open("/proc/self/mountinfo")},
    "write_venv": attempt(lambda: open("/work/main/.venv/pyvenv.cfg", "a")),
    "write_src": attempt(lambda: open("/opt/asyncourse-sandbox/helper/asyncourse/__init__.py",
                                      "a")),
    "cmdline": open("/proc/1/cmdline").read().split("\0"),
    "kernel_err": attempt(read_kernel_err),
    "write_usr": attempt(lambda: open("/usr/evil", "w")),
    "write_root": attempt(lambda: open("/evil", "w")),
    "write_tmp": attempt(lambda: open("/tmp/evil", "w")),
    "read_root_only": attempt(lambda: os.listdir("/tmp/runner")),
    "read_etc_shadow": attempt(lambda: open("/etc/shadow").read()),
    "read_etc_hosts": attempt(lambda: open("/etc/hosts").read()),
    "setuid_root": attempt(lambda: os.setuid(0)),
    "write_scratch": attempt(lambda: open("mine.txt", "w").write("x")),
    "nested_root": subprocess.run(["unshare", "-U", "-r", "id"], capture_output=True).returncode,
    "uid": os.getuid(),
    "proxies": sorted(k for k in os.environ if "proxy" in k.lower()),
}
print(json.dumps(r))
"""
FILES_PROBE = FILES_PROBE.replace("/work/main", str(REPO))  # wherever this clone lives

HIDDEN_PROBE = r"""
import json, os, signal
needle = ("HIDDEN" + "-TEST-" + "MARKER").encode()
found, denied = [], set()
for pid in [p for p in os.listdir("/proc") if p.isdigit() and int(p) != os.getpid()]:
    for name in ("cmdline", "environ", "mem", "fd/0", "maps"):
        try:
            with open(f"/proc/{pid}/{name}", "rb") as f:
                if needle in f.read(1 << 20):
                    found.append(f"{pid}/{name}")
        except OSError as e:
            denied.add(type(e).__name__)
for top in ("/tmp", "/home", "/opt", "/dev/shm"):
    for d, _, files in os.walk(top):
        for n in files:
            try:
                if needle in open(os.path.join(d, n), "rb").read():
                    found.append(os.path.join(d, n))
            except OSError:
                pass
kill = "ok"
try:
    os.kill(1, signal.SIGKILL)
except OSError as e:
    kill = type(e).__name__
print(json.dumps({"found": found, "denied": sorted(denied), "kill": kill}))
"""

NETWORK_PROBE = r"""
import json, socket, time
t = time.monotonic()
try:
    socket.create_connection(("192.0.2.1", 80), timeout=1)  # TEST-NET-1, never routed
    err = "connected"
except OSError as e:
    err = type(e).__name__
print(json.dumps({"ifs": [n for _, n in socket.if_nameindex()], "err": err,
                  "seconds": time.monotonic() - t}))
"""

PYPROJECT = (REPO / "pyproject.toml").read_bytes()


MARKER = "HIDDEN" + "-TEST-" + "MARKER"  # never written whole in a probe's source

TOGETHER = dataclasses.replace(SMALL, memory_bytes=700 << 20, sandbox_memory_bytes=1 << 30)
FORK_ALLOCATE = r"""
import os, time
for _ in range(6):
    if os.fork() == 0:
        block = bytearray(400 << 20)  # touched: resident, not only reserved
        time.sleep(30)
        os._exit(0)
time.sleep(30)
"""
THREADS_ALLOCATE = r"""
import threading, time
blocks = []
def grow():
    blocks.append(bytearray(150 << 20))
    time.sleep(30)
threads = [threading.Thread(target=grow) for _ in range(12)]
for t in threads:
    t.start()
for t in threads:
    t.join()
"""
BOMB = r"""
import json, os, subprocess, time
uid = os.getuid()
pids = []
try:
    for _ in range(500):
        pid = os.fork()
        if pid == 0:
            time.sleep(60)
            os._exit(0)
        pids.append(pid)
except OSError as e:
    error = type(e).__name__
for pid in pids:
    os.kill(pid, 9)
    os.waitpid(pid, 0)
subprocess.Popen(["/bin/sh", "-c", "sleep 60 & sleep 60"], start_new_session=True)
print(json.dumps({"forked": len(pids), "error": error, "uid": uid}))
"""


def normal_notebook(backend: SandboxBackend) -> Execution:
    nb = new_notebook(
        cells=[
            new_markdown_cell("# A title"),
            new_code_cell("import asyncio\nasync def twice(x):\n    await asyncio.sleep(0.01)\n"
                          "    return 2 * x"),
            new_code_cell("await asyncio.gather(twice(1), twice(2))"),
            new_code_cell("import asyncourse, os\nprint(open('data/in.txt').read(), hash('a'),"
                          " os.environ['MPLBACKEND'], os.getcwd() == os.environ['HOME'])"),
            new_code_cell("print('test cell')"),
            new_code_cell("import matplotlib.pyplot as plt\nplt.plot([1, 2])\nplt.show()"),
            new_code_cell("raise ValueError('a failing cell')"),
        ]
    )  # fmt: skip
    nb.cells[4].outputs = [nbformat.v4.new_output("stream", name="stdout", text="faked pass\n")]
    return execute(nb, files={"data/in.txt": b"hello"}, backend=backend)


# Independent notebooks run at once (each sandbox has its own uid and limits): the suite waits
# for the slowest, not the sum of the deliberate timeouts.
BATCH: dict[str, Callable[[SandboxBackend], Execution]] = {
    "normal": normal_notebook,
    "probes": lambda b: run_on(b, FILES_PROBE, HIDDEN_PROBE, NETWORK_PROBE, f"assert '{MARKER}'"),
    "exit": lambda b: run_on(b, "print('a')", "import os\nos._exit(1)", "print('b')"),
    "sigkill": lambda b: run_on(b, "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)", "1"),
    "loops": lambda b: run_on(b,
        "x = 1",
        "while True:\n    pass",
        "print('after', x)",
        "import asyncio\nwhile True:\n    await asyncio.sleep(0)",
        "print('after', x + 1)",
        limits=QUICK,
    ),
    "sigint": lambda b: run_on(b,
        "import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nwhile True:\n    pass",
        "print('after')",
        limits=SIGINT_LIMITS,
    ),
    "cpu": lambda b: run_on(b,
        "while True:\n    pass", "print('never')", limits=dataclasses.replace(SMALL, cpu_seconds=2)
    ),
    "total": lambda b: run_on(b,
        "import time\ntime.sleep(2)",
        "time.sleep(2.5)",
        "print('never')",
        limits=dataclasses.replace(SMALL, total_timeout=4.0),
    ),
    "memory": lambda b: run_on(b,
        "x = []\nwhile True:\n    x.append(bytearray(10**7))",
        "del x\nprint('after')",
        limits=dataclasses.replace(SMALL, memory_bytes=512 << 20),
    ),
    "fork": lambda b: run_on(b, BOMB),
    # each process stays under its own address-space limit; together they pass the sandbox's
    "fork-allocate": lambda b: run_on(b, FORK_ALLOCATE, "print('after')", limits=TOGETHER),
    "threads-allocate": lambda b: run_on(b, THREADS_ALLOCATE, "print('after')", limits=TOGETHER),
    "huge": lambda b: run_on(b, "print('x' * 50_000_000)", "print('after')"),
    "sysexit": lambda b: run_on(b,
        "raise SystemExit(3)", "raise KeyboardInterrupt", "exit()", "print('after')"
    ),
}


@pytest.fixture(scope="session", params=[
    pytest.param(k, marks=pytest.mark.skipif(k == "warm" and bool(warm_unavailable()),
                                             reason=warm_unavailable() or ""))
    for k in sorted(BACKENDS)])
def batch(request: pytest.FixtureRequest,
          tmp_path_factory: pytest.TempPathFactory) -> dict[str, Execution]:
    """BATCH on one backend, run once per session even across xdist workers (a file lock and a
    JSON cache)."""
    backend = BACKENDS[request.param]
    if "PYTEST_XDIST_WORKER" not in os.environ:
        return run_batch(backend)
    shared = tmp_path_factory.getbasetemp().parent  # this session's folder, common to workers
    cache = shared / f"sandbox-batch-{request.param}.json"
    with open(shared / f"sandbox-batch-{request.param}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not cache.exists():
            done = {k: dataclasses.asdict(v) for k, v in run_batch(backend).items()}
            cache.write_text(json.dumps(done))
        saved = json.loads(cache.read_text())
    return {
        name: Execution(**{**fields, "notebook": nbformat.from_dict(fields["notebook"]),
                           "cells": tuple(CellRun(**c) for c in fields["cells"])})
        for name, fields in saved.items()
    }


def run_batch(backend: SandboxBackend) -> dict[str, Execution]:
    with ThreadPoolExecutor(len(BATCH)) as pool:
        futures = {name: pool.submit(make, backend) for name, make in BATCH.items()}
    return {name: future.result() for name, future in futures.items()}


@BATCHED
def test_normal_notebook_runs_with_correct_outputs_and_drops_submitted_ones(
    batch: dict[str, Execution],
) -> None:
    ex = batch["normal"]
    assert (ex.outcome, ex.reason, ex.failed_cell) == ("completed", None, None)
    assert text(ex, 3) == "[2, 4]"
    data, seed_hash, backend, home = text(ex, 4).split()
    assert (data, home) == ("hello", "True")
    assert backend == "module://matplotlib_inline.backend_inline"  # plots reach the outputs
    assert any("image/png" in o.get("data", {}) for o in ex.notebook.cells[5].outputs)
    assert text(ex, 5) == "test cell\n"  # the submitted "faked pass" output is gone
    assert [ex.status(i) for i in range(7)] == [
        "not-run", "ok", "ok", "ok", "ok", "ok", "error"]  # the markdown cell never runs
    nbformat.validate(ex.notebook)
    seed0 = subprocess.run(
        [sys.executable, "-c", "print(hash('a'))"],
        env={"PYTHONHASHSEED": "0"},
        capture_output=True,
        text=True,
        check=True,
    )
    assert seed_hash == seed0.stdout.strip()  # PYTHONHASHSEED=0: deterministic


@BATCHED
def test_course_files_are_invisible_and_nothing_outside_scratch_is_writable(
    batch: dict[str, Execution],
) -> None:
    assert batch["probes"].outcome == "completed", batch["probes"]
    r = result(batch["probes"], 1)
    assert r["remove_gradebook"] in ("ENOENT", "EACCES")
    assert r["remove_pyproject"] == "ENOENT"
    assert r["read_source"] == r["read_autograder"] == "ENOENT"
    assert r["work_main"] == [".venv"]  # the course's src/ is shown elsewhere, not at its path
    assert r["write_venv"] == r["write_src"] == "EACCES"  # root's files, read-only binds
    shown = [arg for arg in r["cmdline"] if "asyncourse-sandbox-" in arg  # the host's scratch
             or (str(REPO) in arg and not arg.startswith(sys.prefix))]  # the course (its venv
    assert not shown, shown  # is the kernel's own Python: sys.executable shows it anyway)
    assert r["kernel_err"] == "EACCES"  # the runner's file behind the kernel's stderr
    assert r["write_usr"] == "EROFS"
    mounts = r["mounts"]
    assert isinstance(mounts, dict)
    for ro in ("/usr", f"{REPO}/.venv", "/opt/asyncourse-sandbox/helper",
               "/opt/asyncourse-sandbox/runner.py"):
        assert mounts[ro].split(",")[0] == "ro", ro  # read-only even for the runner's uid 0
    assert mounts["/home/learner"].split(",")[0] == "rw"
    assert r["write_root"] == r["write_tmp"] == "EACCES"
    assert r["read_root_only"] == "EACCES"
    assert r["read_etc_shadow"] == "ENOENT"  # not in the /etc allowlist
    assert r["read_etc_hosts"] == "ok"
    assert r["setuid_root"] == "EPERM"
    assert r["write_scratch"] == "ok"
    assert r["nested_root"] != 0  # seccomp: no user namespace, so no nested "root"
    assert r["uid"] != 0
    assert r["proxies"] == []
    assert (REPO / "pyproject.toml").read_bytes() == PYPROJECT


@BATCHED
def test_hidden_tests_cannot_be_read_before_they_run(batch: dict[str, Execution]) -> None:
    probed = batch["probes"]
    assert MARKER in probed.notebook.cells[3].source  # the "hidden test" that came later
    r = result(probed, 2)
    assert r["found"] == []
    assert "PermissionError" in r["denied"]  # the runner's memory and stdin exist but are closed
    assert r["kill"] == "PermissionError"


@BATCHED
def test_only_loopback_network_and_outside_addresses_fail_fast(batch: dict[str, Execution]) -> None:
    r = result(batch["probes"], 3)
    assert r["ifs"] == ["lo"]
    assert r["err"] == "OSError"  # ENETUNREACH: no route at all
    assert r["seconds"] < 0.5  # type: ignore[operator]


@BATCHED
def test_kernel_exit_and_sigkill_are_reported_with_the_cell(batch: dict[str, Execution]) -> None:
    ex = batch["exit"]
    assert (ex.outcome, ex.failed_cell) == ("kernel-died", 2)
    assert ex.reason == "the kernel died (exit code 1) in cell 2"
    assert text(ex, 1) == "a\n"
    assert text(ex, 3).startswith("NotRun: not run: the kernel died")  # never an empty "pass"
    nbformat.validate(ex.notebook)

    ex = batch["sigkill"]
    assert ex.outcome == "kernel-died"
    assert ex.reason == "the kernel died (killed by signal SIGKILL) in cell 1"


@BATCHED
def test_infinite_loops_time_out_and_later_cells_still_run(batch: dict[str, Execution]) -> None:
    ex = batch["loops"]
    assert (ex.outcome, ex.failed_cell) == ("timeout", 2)  # the first problem is reported
    assert ex.reason == "ran past the time limit in cell 2"
    assert text(ex, 2).startswith("KeyboardInterrupt")
    assert text(ex, 3) == "after 1\n"
    assert text(ex, 4).startswith("CancelledError")  # the interrupted top-level await
    assert text(ex, 5) == "after 2\n"


@BATCHED
def test_ignored_sigint_is_killed_within_the_limits(batch: dict[str, Execution]) -> None:
    ex = batch["sigint"]
    assert (ex.outcome, ex.failed_cell) == ("timeout", 1)
    assert ex.reason == "ran past the time limit in cell 1"
    assert text(ex, 2).startswith("NotRun")
    assert ex.seconds < SIGINT_LIMITS.total_timeout / 4  # killed at the cell limit, not the total


@BATCHED
def test_cpu_limit_stops_a_busy_kernel(batch: dict[str, Execution]) -> None:
    ex = batch["cpu"]
    assert (ex.outcome, ex.failed_cell) == ("timeout", 1)
    assert ex.reason == "ran out of CPU time in cell 1"
    assert text(ex, 2).startswith("NotRun")


@BATCHED
def test_total_timeout_stops_the_notebook(batch: dict[str, Execution]) -> None:
    ex = batch["total"]
    assert ex.outcome == "timeout"
    assert ex.failed_cell in (1, 2)  # 2 unless the kernel took over 2 s to start
    assert ex.reason == f"ran past the time limit in cell {ex.failed_cell}"
    assert text(ex, 3).startswith("NotRun")


@KINDS
def test_host_kills_a_sandbox_that_outlives_its_margin(monkeypatch: pytest.MonkeyPatch,
                                                       kind: str) -> None:
    monkeypatch.setattr(_process, "HOST_MARGIN", -54.0)  # host deadline 6 s after start
    start = time.monotonic()
    ex = run("import os\nprint(os.getuid())", "import time\ntime.sleep(60)", "print('never')",
             backend=BACKENDS[kind])
    assert time.monotonic() - start < 15
    assert ex.outcome == "timeout"
    assert ex.reason == "ran past the time limit in cell 2"
    assert text(ex, 3).startswith("NotRun")
    time.sleep(0.2)
    assert host_processes_of(int(text(ex, 1))) == []


@BATCHED
def test_memory_growth_hits_the_limit(batch: dict[str, Execution]) -> None:
    ex = batch["memory"]
    assert (ex.outcome, ex.failed_cell) == ("memory", 1)
    assert ex.reason == "memory limit reached in cell 1"
    assert text(ex, 2) == "after\n"


@BATCHED
def test_memory_is_bounded_for_the_whole_sandbox(batch: dict[str, Execution]) -> None:
    forked = batch["fork-allocate"]  # 6 x 400 MB, each under its own 700 MB limit
    assert forked.outcome == "memory", forked
    assert "memory" in (forked.reason or "")
    threads = batch["threads-allocate"]  # 12 x 150 MB in one process
    assert threads.outcome == "memory" or "MemoryError" in text(threads, 1), threads


@BATCHED
def test_fork_bomb_is_bounded_and_nothing_outlives_the_execution(
    batch: dict[str, Execution],
) -> None:
    ex = batch["fork"]
    r = result(ex, 1)
    assert r["error"] == "BlockingIOError"  # EAGAIN from RLIMIT_NPROC
    assert 0 < r["forked"] < SMALL.max_processes  # type: ignore[operator]
    time.sleep(0.2)
    assert host_processes_of(r["uid"]) == []  # type: ignore[arg-type]


@BATCHED
def test_huge_output_is_truncated_with_a_note(batch: dict[str, Execution]) -> None:
    ex = batch["huge"]
    assert ex.outcome == "completed"
    out = text(ex, 1)
    assert out.startswith("x" * 1000)
    assert len(out.encode()) < SMALL.max_output_bytes + 200
    assert "[output truncated" in out
    assert text(ex, 2) == "after\n"


@KINDS
def test_host_caps_what_it_reads_from_the_runner(monkeypatch: pytest.MonkeyPatch,
                                                 kind: str) -> None:
    monkeypatch.setattr(_process, "MAX_RESULT_BYTES", 20_000)
    ex = run("print('y' * 30_000)", "print('after')", backend=BACKENDS[kind])
    assert (ex.outcome, ex.failed_cell) == ("output-limit", 1)
    assert ex.reason == "the notebook wrote more output than the grader accepts in cell 1"


@BATCHED
def test_system_exit_and_keyboard_interrupt_are_ordinary_cell_errors(
    batch: dict[str, Execution],
) -> None:
    ex = batch["sysexit"]
    assert (ex.outcome, ex.reason) == ("completed", None)
    assert text(ex, 1).startswith("SystemExit: 3")
    assert text(ex, 2).startswith("KeyboardInterrupt")
    assert text(ex, 4) == "after\n"


@KINDS
def test_prestarted_sandboxes_each_run_one_notebook(kind: str) -> None:
    cell = "import os\nprint(os.getuid(), sorted(f for f in os.listdir() if f[0] != '.'))"
    box = (WarmSandboxBackend if kind == "warm" else SandboxBackend)(prestart=True, hidden=[REPO])
    first = run(cell, backend=box)
    spare = box.spares.current()
    assert spare is not None and spare.alive()
    second = run(cell, files={"data/a.txt": b"x"}, backend=box)
    assert spare.proc.poll() is not None  # used once, then gone
    uid1, files1 = text(first, 1).split(" ", 1)
    uid2, files2 = text(second, 1).split(" ", 1)
    assert uid1 != uid2 and files1 == "[]\n" and files2 == "['data']\n"

    # a spare whose kernel died while idle is not blamed on the learner
    spare = box.spares.current()
    assert spare is not None and spare.uid is not None
    deadline = time.monotonic() + 60
    while {"event": "ready"} not in spare.events and time.monotonic() < deadline:
        time.sleep(0.1)  # the spare's kernel is still starting
    for pid in host_processes_of(spare.uid):
        os.kill(pid, 9)
    time.sleep(0.5)  # the kernel dies idle, well before a notebook comes
    ex = run("print('fine')", backend=box)
    assert (ex.outcome, ex.reason) == ("failed", "the kernel stopped before the notebook arrived")
    assert ex.machinery_failed and text(ex, 1).startswith("NotRun")

    spare = box.spares.current()
    assert spare is not None and spare.uid is not None
    box.prestart = False
    run("1", limits=QUICK, backend=box)  # other limits: the spare does not fit and is stopped
    assert spare.proc.poll() is not None and box.spares.current() is None
    assert host_processes_of(spare.uid) == []
    box.close()


def test_missing_bubblewrap_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    _sandbox._unavailable.cache_clear()
    monkeypatch.setattr(_sandbox.shutil, "which", lambda name: None)
    try:
        with pytest.raises(BackendUnavailable, match="apt-get install bubblewrap"):
            run("print('never runs bare')")
    finally:
        _sandbox._unavailable.cache_clear()


def test_a_sandbox_that_would_show_the_course_is_refused() -> None:
    with pytest.raises(BackendUnavailable, match="holds"):
        run("1", backend=SandboxBackend(prestart=False, hidden=[REPO / "src"]))


def test_bad_extra_file_names_and_limits_are_refused() -> None:
    with pytest.raises(ValueError, match="relative"):
        run("1", files={"../escape.txt": b""})
    with pytest.raises(ValueError, match="positive"):
        Limits(cell_timeout=0)
    assert os.path.exists(_process.RUNNER)
