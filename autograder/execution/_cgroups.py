"""One control group per sandbox: memory, process count and CPU for all its processes together.

Why. rlimits are per process: a notebook that forks many mid-size processes, or starts threads
that each allocate, stays under every per-process limit and still takes the machine's memory.
A cgroup bounds the whole sandbox. Written by hand because the kernel's interface is a handful of
files, and no kept library covers both cgroup v1 (these machines: root, the v1 ``memory``,
``pids`` and ``cpu`` controllers mounted under ``/sys/fs/cgroup``) and v2.

The group is joined before bubblewrap starts (a ``/bin/sh`` that writes its own pid into
``cgroup.procs`` and then ``exec``s bwrap), so every process of the sandbox is in it from the
start. After the run, `oom_killed` tells whether the memory limit killed something (the learner's
doing, reported as running out of memory), and `remove` deletes the group.
"""

from __future__ import annotations

import contextlib
import functools
import os
import secrets
import signal
import time
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Cgroup", "support"]

CONTROLLERS = ("memory", "pids", "cpu", "cpuacct")
PREFIX = "asyncourse-sandbox"


@dataclass(frozen=True)
class _Layout:
    version: int  # 1 or 2
    roots: dict[str, Path]  # controller -> our own cgroup folder in that hierarchy


def _mounts() -> list[tuple[str, str, set[str]]]:
    found = []
    with contextlib.suppress(OSError):
        for line in Path("/proc/self/mounts").read_text().splitlines():
            parts = line.split()
            if len(parts) >= 4 and parts[2] in ("cgroup", "cgroup2"):
                found.append((parts[1], parts[2], set(parts[3].split(","))))
    return found


def _own_paths() -> dict[str, str]:
    """controller (or "" for v2) -> our cgroup's path inside that hierarchy."""
    paths: dict[str, str] = {}
    with contextlib.suppress(OSError):
        for line in Path("/proc/self/cgroup").read_text().splitlines():
            _, controllers, path = line.split(":", 2)
            for name in controllers.split(",") if controllers else [""]:
                paths[name] = path
    return paths


def _writable(folder: Path) -> bool:
    probe = folder / f"{PREFIX}-probe-{secrets.token_hex(4)}"
    try:
        probe.mkdir()
    except OSError:
        return False
    with contextlib.suppress(OSError):
        probe.rmdir()
    return True


@functools.lru_cache(maxsize=1)
def _layout() -> _Layout | None:
    own = _own_paths()
    for mount, kind, _options in _mounts():  # v2 with the controllers we need
        if kind != "cgroup2":
            continue
        root = Path(mount) / own.get("", "/").lstrip("/")
        try:
            available = set((root / "cgroup.controllers").read_text().split())
        except OSError:
            continue
        if {"memory", "pids"} <= available and _writable(root):
            with contextlib.suppress(OSError):
                (root / "cgroup.subtree_control").write_text(
                    " ".join(f"+{c}" for c in CONTROLLERS if c in available))
            return _Layout(2, {c: root for c in CONTROLLERS if c in available})
    roots: dict[str, Path] = {}
    for mount, kind, options in _mounts():  # v1: one hierarchy per controller
        for controller in CONTROLLERS:
            if kind == "cgroup" and controller in options and controller not in roots:
                root = Path(mount) / own.get(controller, "/").lstrip("/")
                if _writable(root):
                    roots[controller] = root
    if "memory" in roots and "pids" in roots:
        return _Layout(1, roots)
    return None


def support() -> str | None:
    """"cgroup v1 (memory, pids, cpu)" where a sandbox gets its own group, else None."""
    layout = _layout()
    if layout is None:
        return None
    return f"cgroup v{layout.version} ({', '.join(sorted(layout.roots))})"


class Cgroup:
    """The control group of one sandbox (see the module docstring)."""

    def __init__(self, layout: _Layout, folders: dict[str, Path]) -> None:
        self.layout, self.folders = layout, folders

    @classmethod
    def create(cls, memory_bytes: int, max_processes: int, cpus: float) -> Cgroup | None:
        """A new group with these limits, or None where cgroups cannot be used."""
        layout = _layout()
        if layout is None:
            return None
        name = f"{PREFIX}-{os.getpid()}-{secrets.token_hex(6)}"
        folders: dict[str, Path] = {}
        group = cls(layout, folders)
        try:
            for controller, root in layout.roots.items():
                folder = root / name
                if folder not in folders.values():
                    folder.mkdir()
                folders[controller] = folder
            group._limit(memory_bytes, max_processes, cpus)
        except OSError:
            group.remove()
            return None
        return group

    def _limit(self, memory_bytes: int, max_processes: int, cpus: float) -> None:
        period = 100_000
        if self.layout.version == 2:
            folder = self.folders["memory"]
            (folder / "memory.max").write_text(str(memory_bytes))
            with contextlib.suppress(OSError):
                (folder / "memory.swap.max").write_text("0")
            (self.folders["pids"] / "pids.max").write_text(str(max_processes))
            if "cpu" in self.folders:
                (self.folders["cpu"] / "cpu.max").write_text(f"{int(cpus * period)} {period}")
            return
        memory = self.folders["memory"]
        (memory / "memory.limit_in_bytes").write_text(str(memory_bytes))
        with contextlib.suppress(OSError):  # only where swap accounting is on
            (memory / "memory.memsw.limit_in_bytes").write_text(str(memory_bytes))
        (self.folders["pids"] / "pids.max").write_text(str(max_processes))
        if "cpu" in self.folders:
            (self.folders["cpu"] / "cpu.cfs_period_us").write_text(str(period))
            (self.folders["cpu"] / "cpu.cfs_quota_us").write_text(str(int(cpus * period)))

    def join_command(self) -> list[str]:
        """A prefix that puts the command it runs (and all it starts) into this group."""
        procs = sorted({str(f / "cgroup.procs") for f in self.folders.values()})
        script = "".join(f'echo $$ > "{p}" && ' for p in procs) + 'exec "$0" "$@"'
        return ["/bin/sh", "-c", script]

    def procs_files(self) -> list[Path]:
        """The ``cgroup.procs`` file of each hierarchy: writing "0" to all of them (through
        descriptors the host opened) puts the writer into this group (the warm sandbox's init)."""
        return sorted({f / "cgroup.procs" for f in self.folders.values()})

    def kill_all(self, rounds: int = 20) -> None:
        """SIGKILL every process of the group, again while new ones appear."""
        procs = self.folders.get("pids", next(iter(self.folders.values()))) / "cgroup.procs"
        for _ in range(rounds):
            try:
                pids = [int(p) for p in procs.read_text().split()]
            except (OSError, ValueError):
                return
            if not pids:
                return
            for pid in pids:
                with contextlib.suppress(OSError):
                    os.kill(pid, signal.SIGKILL)
            time.sleep(0.01)

    def cpu_seconds(self) -> float | None:
        """CPU time used by every process of the sandbox so far (for honest benchmarks)."""
        try:
            if self.layout.version == 2:
                stat = (self.folders["cpu"] / "cpu.stat").read_text().split()
                return int(stat[stat.index("usage_usec") + 1]) / 1e6
            if "cpuacct" in self.folders:
                return int((self.folders["cpuacct"] / "cpuacct.usage").read_text()) / 1e9
        except (OSError, ValueError, KeyError, IndexError):
            return None
        return None

    def oom_killed(self) -> bool:
        """Whether the memory limit killed a process of the sandbox."""
        folder = self.folders.get("memory")
        if folder is None:
            return False
        name = "memory.events" if self.layout.version == 2 else "memory.oom_control"
        try:
            lines = (folder / name).read_text().splitlines()
        except OSError:
            return False
        for line in lines:
            key, _, value = line.partition(" ")
            if key == "oom_kill" and value.strip().isdigit() and int(value) > 0:
                return True
        return False

    def remove(self) -> None:
        """Delete the group once its processes are gone (they are, after the sandbox ends)."""
        for folder in set(self.folders.values()):
            for _ in range(50):
                try:
                    folder.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.02)  # the last processes are still being reaped
