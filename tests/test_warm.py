"""The warm start keeps learners apart: two learners forked from one template, running at once,
cannot reach each other's files, processes, ports, sockets or memory, and none inherits another's
state (autograder/execution/_warm.py, _template.py).

`tests/test_sandbox.py` and `tests/test_integrity.py` run every sandbox check against the warm
backend too; this file proves what only the warm start could get wrong, since its sandboxes share
a parent.
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest
from nbformat.v4 import new_code_cell, new_notebook

from autograder.execution import Execution, Limits, WarmSandboxBackend
from tests.support.paths import REPO, warm_unavailable

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("warm"),
              pytest.mark.skipif(bool(warm_unavailable()), reason=warm_unavailable() or "")]

LIMITS = dataclasses.replace(Limits(), cell_timeout=60.0, total_timeout=120.0)
PORTS = {"A": 45071, "B": 45072}
SAME_PORT = 45070  # both listen on it: only possible in separate network namespaces
PROBE_SECONDS = 6.0

# Learner `me` leaves traces everywhere it can write or listen, then looks for the other's for a
# while (both run at once: the host checks that the two probing windows overlap).
PROBE = r"""
import ctypes, json, os, socket, time
me, other, ports, same = {me!r}, {other!r}, {ports!r}, {same!r}
uid = os.getuid()
listener = socket.socket()
listener.bind(("127.0.0.1", ports[me]))
listener.listen()
both = socket.socket()
try:
    both.bind(("127.0.0.1", same))
    both.listen()
    same_ok = True
except OSError:
    same_ok = False
abstract = socket.socket(socket.AF_UNIX)
abstract.bind("\0asyncourse-" + me)
abstract.listen()
globals().setdefault("KEEP", []).extend([listener, both, abstract])  # open while the kernel runs
open("secret-" + me, "w").write(me)
open("/dev/shm/secret-" + me, "w").write(me)
libc = ctypes.CDLL(None, use_errno=True)
shm_ok = libc.shmget(0x5A5A0000 + ord(me), 4096, 0o1666) >= 0  # IPC_CREAT | 0666
start = time.monotonic()
seen = {{"port": 0, "abstract": 0, "files": [], "uids": set(), "shm": 0, "pids": set()}}
while time.monotonic() - start < {seconds}:
    try:
        socket.create_connection(("127.0.0.1", ports[other]), timeout=0.2).close()
        seen["port"] += 1
    except OSError:
        pass
    probe = socket.socket(socket.AF_UNIX)
    try:
        probe.connect("\0asyncourse-" + other)
        seen["abstract"] += 1
    except OSError:
        pass
    probe.close()
    if libc.shmget(0x5A5A0000 + ord(other), 0, 0) >= 0:
        seen["shm"] += 1
    for top in ("/home", "/tmp", "/dev/shm", "/opt", "/var", "/run"):
        for folder, _, files in os.walk(top):
            seen["files"] += [os.path.join(folder, f) for f in files if f.endswith("-" + other)]
    for pid in (p for p in os.listdir("/proc") if p.isdigit()):
        seen["pids"].add(int(pid))
        try:
            status = open(f"/proc/{{pid}}/status").read()
        except OSError:
            continue
        line = next(l for l in status.splitlines() if l.startswith("Uid:"))
        seen["uids"].add(int(line.split()[1]))
        for link in ("root", "cwd"):
            try:
                seen["files"] += [f for f in os.listdir(f"/proc/{{pid}}/{{link}}/home/learner")
                                  if f.endswith("-" + other)]
            except OSError:
                pass
    time.sleep(0.2)
end = time.monotonic()
print(json.dumps({{"me": me, "uid": uid, "start": start, "end": end, "shm_ok": shm_ok,
                  "same_ok": same_ok,
                  "port": seen["port"], "abstract": seen["abstract"], "shm": seen["shm"],
                  "files": sorted(set(seen["files"])), "uids": sorted(seen["uids"]),
                  "pids": sorted(seen["pids"]), "mine": sorted(os.listdir("."))}}))
"""


def probe_cell(me: str, other: str, seconds: float = PROBE_SECONDS) -> object:
    return new_code_cell(PROBE.format(me=me, other=other, ports=PORTS, same=SAME_PORT,
                                      seconds=seconds))


def probe(me: str, other: str) -> object:
    return new_notebook(cells=[probe_cell(me, other)])


def printed(ex: Execution, cell: int = 0) -> dict[str, object]:
    out = "".join(o.get("text", "") for o in ex.notebook.cells[cell].outputs
                  if o.get("output_type") == "stream")
    assert out.strip(), ex.notebook.cells[cell].outputs
    return json.loads(out.strip().splitlines()[-1])  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def backend() -> WarmSandboxBackend:
    box = WarmSandboxBackend(prestart=False, hidden=[REPO])
    box.check()  # the template starts: this machine can run the warm start
    yield box  # type: ignore[misc]
    box.close()


def test_two_learners_at_once_cannot_reach_each_other(backend: WarmSandboxBackend) -> None:
    with ThreadPoolExecutor(2) as pool:
        runs = {me: pool.submit(backend.run, probe(me, other), {}, {}, LIMITS)
                for me, other in (("A", "B"), ("B", "A"))}
    a, b = (printed(runs[me].result()) for me in "AB")
    assert runs["A"].result().outcome == runs["B"].result().outcome == "completed"
    overlap = min(a["end"], b["end"]) - max(a["start"], b["start"])  # type: ignore[type-var,operator]
    assert overlap > PROBE_SECONDS / 2, (a, b)  # they probed each other at the same time
    for mine, theirs in ((a, b), (b, a)):
        assert mine["uid"] != theirs["uid"]
        assert mine["port"] == mine["abstract"] == mine["shm"] == 0, mine  # no way in
        assert mine["shm_ok"] and mine["same_ok"]  # SysV memory and the same port: both had
        # their own ipc and network namespaces
        assert mine["files"] == [], mine["files"]
        assert theirs["uid"] not in mine["uids"]  # type: ignore[operator]
        assert set(mine["uids"]) <= {0, mine["uid"]}  # type: ignore[call-overload]
        assert f"secret-{mine['me']}" in mine["mine"]  # type: ignore[operator]
        assert f"secret-{theirs['me']}" not in mine["mine"]  # type: ignore[operator]
        assert min(mine["pids"]) == 1 and max(mine["pids"]) < 100  # type: ignore[type-var]


def test_the_probe_finds_a_learner_it_shares_a_sandbox_with(backend: WarmSandboxBackend) -> None:
    """The control: the same probe, both learners in one kernel, finds every trace."""
    nb = new_notebook(cells=[probe_cell("A", "B", 0.5), probe_cell("B", "A", 0.5)])
    ex = backend.run(nb, {}, {}, LIMITS)
    b = printed(ex, 1)
    assert b["port"] and b["abstract"] and b["shm"] and not b["same_ok"], b
    assert "/home/learner/secret-A" in b["files"] and "/dev/shm/secret-A" in b["files"]  # type: ignore[operator]


def test_no_learner_inherits_another_learners_state(backend: WarmSandboxBackend) -> None:
    leave = ("import asyncourse, builtins, json, sys, random, time, os\n"
             "asyncourse.LEFT_BEHIND = builtins.LEFT_BEHIND = 'A'\n"
             "sys.modules['json'].LEFT_BEHIND = 'A'\nrandom.seed(42)\n"
             "open('/tmp/left', 'w') if os.access('/tmp', os.W_OK) else None\n"
             "print(json.dumps({'ended': time.clock_gettime(time.CLOCK_BOOTTIME)}))")
    look = ("import asyncourse, builtins, json, sys, os\n"
            "ticks = os.sysconf('SC_CLK_TCK')\n"
            "stat = open('/proc/self/stat').read().rsplit(')', 1)[1].split()\n"
            "print(json.dumps({'seen': [hasattr(m, 'LEFT_BEHIND') for m in "
            "(asyncourse, builtins, sys.modules['json'])], 'started': int(stat[19]) / ticks}))")
    first = backend.run(new_notebook(cells=[new_code_cell(leave)]), {}, {}, LIMITS)
    second = backend.run(new_notebook(cells=[new_code_cell(look)]), {}, {}, LIMITS)
    assert (first.outcome, second.outcome) == ("completed", "completed"), (first, second)
    after = printed(second)
    assert after["seen"] == [False, False, False]
    # the second learner's kernel process was made after the first learner's code had run
    assert after["started"] >= printed(first)["ended"] - 0.02  # type: ignore[operator]


def test_cpu_is_accounted_to_each_learners_cgroup(backend: WarmSandboxBackend) -> None:
    busy = "import time\nt = time.process_time()\nwhile time.process_time() - t < 1.0:\n    pass"
    ex = backend.run(new_notebook(cells=[new_code_cell(busy)]), {}, {}, LIMITS)
    assert ex.outcome == "completed"
    assert ex.cpu_seconds is not None and ex.cpu_seconds >= 1.0


def test_a_run_whose_start_up_differs_runs_cold(backend: WarmSandboxBackend) -> None:
    before = backend.cold_runs
    cell = new_code_cell("print(hash('asyncourse'))")
    ex = backend.run(new_notebook(cells=[cell]), {}, {"PYTHONHASHSEED": "1"}, LIMITS)
    want = subprocess.run([sys.executable, "-c", "print(hash('asyncourse'))"], text=True,
                          env={**os.environ, "PYTHONHASHSEED": "1"}, capture_output=True,
                          check=True).stdout
    assert ex.notebook.cells[0].outputs[0]["text"] == want
    assert backend.cold_runs == before + 1
