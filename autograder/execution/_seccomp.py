"""The sandbox's seccomp filter: refuse new user namespaces and a few often-exploited syscalls.

A nested user namespace (a "root" inside the sandbox) is the usual first step of a kernel exploit;
the other refused calls (setns, bpf, keyctl, io_uring, userfaultfd, perf events, module loading)
are rarely needed by a notebook and often part of one. Classic BPF for ``bwrap --seccomp``,
assembled by hand for x86_64 only: elsewhere `program` returns None (user namespaces then stay
allowed, and the threat model in `_sandbox` says so).
"""

from __future__ import annotations

import os
import struct

__all__ = ["program"]

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


def program() -> bytes | None:
    """The filter for ``bwrap --seccomp FD``, or None off x86_64."""
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
