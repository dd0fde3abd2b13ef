"""The few Linux calls the warm template makes to build a learner's sandbox inside its own.

``unshare`` (new mount, pid, network, ipc, uts and cgroup namespaces), ``mount`` (a fresh
``/proc``, the tmpfs folders), capabilities (``capset`` and the bounding set), ``prctl`` (parent
death signal, no_new_privs, dumpable) and bringing ``lo`` up.

Why by hand. Python 3.11 has no ``os.unshare`` (3.12 adds it, not ``mount`` nor ``capset``); the
libraries that wrap these calls (python-prctl, pyroute2, butter) are C extensions needing
libcap's headers, or a whole netlink stack for one interface flag. Each call here is one libc
function through ctypes, or one ioctl. This file runs inside the sandbox (standard library only)
and is bound into it read-only, next to the runner and the template.
"""

from __future__ import annotations

import ctypes
import fcntl
import os
import socket
import struct

__all__ = [
    "CAP_SETGID", "CAP_SETUID", "NAMESPACES", "interface_up", "keep_capabilities", "mount",
    "no_new_privs", "set_dumpable", "set_parent_death_signal", "unshare",
]  # fmt: skip

CLONE_NEWNS = 0x00020000
CLONE_NEWCGROUP = 0x02000000
CLONE_NEWUTS = 0x04000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000
#: What a learner's sandbox gets of its own, besides the pid namespace (made by its parent).
NAMESPACES = CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWCGROUP

MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 32, 4096, 16384, 1 << 18

CAP_SETGID, CAP_SETUID, CAP_SETPCAP = 6, 7, 8
_PR_SET_PDEATHSIG, _PR_SET_DUMPABLE, _PR_CAPBSET_DROP, _PR_SET_NO_NEW_PRIVS = 1, 4, 24, 38
_SIOCGIFFLAGS, _SIOCSIFFLAGS, _IFF_UP = 0x8913, 0x8914, 0x1

_libc = ctypes.CDLL(None, use_errno=True)
_libc.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong,
                        ctypes.c_char_p]
_libc.prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong,
                        ctypes.c_ulong]


def _check(result: int, what: str) -> None:
    if result != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def unshare(flags: int) -> None:
    _check(_libc.unshare(ctypes.c_int(flags)), "unshare")


def mount(source: str | None, target: str, fstype: str | None, flags: int = 0,
          data: str | None = None) -> None:
    def enc(s: str | None) -> bytes | None:
        return None if s is None else s.encode()

    _check(_libc.mount(enc(source), enc(target), enc(fstype), flags, enc(data)),
           f"mount {fstype or source} on {target}")


def _prctl(option: int, arg: int = 0) -> None:
    _check(_libc.prctl(option, arg, 0, 0, 0), f"prctl({option})")


def set_parent_death_signal(signum: int) -> None:
    _prctl(_PR_SET_PDEATHSIG, signum)


def set_dumpable(dumpable: bool) -> None:
    """Not dumpable: no /proc/<pid>/mem, environ or fd for anyone without CAP_SYS_PTRACE."""
    _prctl(_PR_SET_DUMPABLE, int(dumpable))


def no_new_privs() -> None:
    _prctl(_PR_SET_NO_NEW_PRIVS, 1)


class _Header(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _Data(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32),
                ("inheritable", ctypes.c_uint32)]


def _last_capability() -> int:
    try:
        with open("/proc/sys/kernel/cap_last_cap") as f:
            return int(f.read())
    except (OSError, ValueError):
        return 40


def keep_capabilities(keep: frozenset[int]) -> None:
    """Hold exactly `keep` (effective and permitted; none inheritable) and take every other
    capability out of the bounding set, so that no exec can bring one back."""
    if keep:  # dropping from the bounding set needs CAP_SETPCAP, which is given up just after
        for cap in range(_last_capability() + 1):
            if cap not in keep:
                _prctl(_PR_CAPBSET_DROP, cap)
    data = (_Data * 2)()
    for cap in keep:
        data[cap // 32].effective |= 1 << (cap % 32)
        data[cap // 32].permitted |= 1 << (cap % 32)
    header = _Header(0x20080522, 0)  # _LINUX_CAPABILITY_VERSION_3
    _check(_libc.capset(ctypes.byref(header), data), "capset")


def interface_up(name: str) -> None:
    """Bring a network interface up (``lo`` of a new network namespace starts down)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        request = struct.pack("16sH14x", name.encode(), 0)
        flags = struct.unpack("16sH14x", fcntl.ioctl(s, _SIOCGIFFLAGS, request))[1]
        fcntl.ioctl(s, _SIOCSIFFLAGS, struct.pack("16sH14x", name.encode(), flags | _IFF_UP))
