"""The sandbox's seccomp filter: refuse new user namespaces and a few often-exploited syscalls.

A nested user namespace (a "root" inside the sandbox) is the usual first step of a kernel exploit;
the other refused calls (setns, bpf, keyctl, io_uring, userfaultfd, perf events, module loading)
are rarely needed by a notebook and often part of one. The filter is a BPF program for
``bwrap --seccomp FD``.

Where Debian's ``libseccomp2`` is installed (it is wherever bubblewrap is), the program comes from
libseccomp through ctypes: it knows every architecture's syscall numbers and ABIs. Without it, a
hand-assembled classic-BPF program for x86_64 is the fallback, and elsewhere there is no filter
(user namespaces then stay allowed; `source` says so in the summary).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import functools
import os
import struct
import tempfile

__all__ = ["program", "source"]

CLONE_NEWUSER = 0x10000000
DENIED = (
    "setns", "keyctl", "add_key", "request_key", "bpf", "perf_event_open", "userfaultfd",
    "io_uring_setup", "kexec_load", "open_by_handle_at", "init_module", "finit_module",
)  # fmt: skip


def source() -> str:
    """Where the filter comes from, for the summary."""
    if _libseccomp() is not None:
        return "from libseccomp"
    if os.uname().machine == "x86_64":
        return "hand-written for x86_64"
    return "none on this architecture (user namespaces stay allowed)"


def program() -> bytes | None:
    """The filter for ``bwrap --seccomp FD``, or None where none can be made."""
    made = _from_libseccomp()
    if made is not None:
        return made
    return _by_hand() if os.uname().machine == "x86_64" else None


# ---- libseccomp -------------------------------------------------------------------------
_ALLOW = 0x7FFF0000


def _errno(code: int) -> int:
    return 0x00050000 | (code & 0xFFFF)


class _ArgCmp(ctypes.Structure):  # struct scmp_arg_cmp
    _fields_ = [("arg", ctypes.c_uint), ("op", ctypes.c_int), ("datum_a", ctypes.c_uint64),
                ("datum_b", ctypes.c_uint64)]


_CMP_MASKED_EQ = 7
_ATTR_ACT_BADARCH = 2


@functools.lru_cache(maxsize=1)
def _libseccomp() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("seccomp") or "libseccomp.so.2"
    try:
        lib = ctypes.CDLL(name, use_errno=True)
    except OSError:
        return None
    lib.seccomp_init.restype = ctypes.c_void_p
    lib.seccomp_init.argtypes = [ctypes.c_uint32]
    lib.seccomp_release.argtypes = [ctypes.c_void_p]
    lib.seccomp_syscall_resolve_name.argtypes = [ctypes.c_char_p]
    lib.seccomp_rule_add_array.argtypes = [ctypes.c_void_p, ctypes.c_uint32, ctypes.c_int,
                                           ctypes.c_uint, ctypes.POINTER(_ArgCmp)]
    lib.seccomp_attr_set.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_uint32]
    lib.seccomp_export_bpf.argtypes = [ctypes.c_void_p, ctypes.c_int]
    return lib


def _from_libseccomp() -> bytes | None:
    lib = _libseccomp()
    if lib is None:
        return None
    ctx = lib.seccomp_init(_ALLOW)
    if not ctx:
        return None
    try:
        if lib.seccomp_attr_set(ctx, _ATTR_ACT_BADARCH, _errno(errno.ENOSYS)) != 0:
            return None
        for name in DENIED:
            number = lib.seccomp_syscall_resolve_name(name.encode())
            if number >= 0 and lib.seccomp_rule_add_array(
                    ctx, _errno(errno.EPERM), number, 0, None) != 0:
                return None
        newuser = (_ArgCmp * 1)(_ArgCmp(0, _CMP_MASKED_EQ, CLONE_NEWUSER, CLONE_NEWUSER))
        for name in ("clone", "unshare"):  # the flags are the first argument of both
            number = lib.seccomp_syscall_resolve_name(name.encode())
            if number >= 0 and lib.seccomp_rule_add_array(
                    ctx, _errno(errno.EPERM), number, 1, newuser) != 0:
                return None
        clone3 = lib.seccomp_syscall_resolve_name(b"clone3")  # flags behind a pointer: make
        if clone3 >= 0 and lib.seccomp_rule_add_array(  # glibc fall back to clone
                ctx, _errno(errno.ENOSYS), clone3, 0, None) != 0:
            return None
        with tempfile.TemporaryFile() as out:
            if lib.seccomp_export_bpf(ctx, out.fileno()) != 0:
                return None
            out.seek(0)
            return out.read() or None
    finally:
        lib.seccomp_release(ctx)


# ---- by hand (x86_64) -------------------------------------------------------------------
_X86_64 = 0xC000003E
_SYS_CLONE, _SYS_UNSHARE, _SYS_CLONE3 = 56, 272, 435
_SYS_DENIED = {
    "setns": 308, "keyctl": 250, "add_key": 248, "request_key": 249, "bpf": 321,
    "perf_event_open": 298, "userfaultfd": 323, "io_uring_setup": 425, "kexec_load": 246,
    "open_by_handle_at": 304, "init_module": 175, "finit_module": 313,
}  # fmt: skip


def _by_hand() -> bytes:
    ld, jeq, jge, jset, ret = 0x20, 0x15, 0x35, 0x45, 0x06
    deny, nosys = _errno(errno.EPERM), _errno(errno.ENOSYS)

    def op(code: int, k: int, jt: int = 0, jf: int = 0) -> bytes:
        return struct.pack("HBBI", code, jt, jf, k)

    denied = sorted(_SYS_DENIED.values())
    n = len(denied)
    prog = [
        op(ld, 4),  # arch
        op(jeq, _X86_64, 1, 0),
        op(ret, nosys),  # i386 / other ABIs entered from this process
        op(ld, 0),  # syscall number
        op(jge, 0x40000000, 0, 1),  # x32 ABI
        op(ret, nosys),
        op(jeq, _SYS_CLONE3, 0, 1),  # flags behind a pointer: make glibc fall back to clone
        op(ret, nosys),
        op(jeq, _SYS_CLONE, n + 3, 0),  # -> flag check
        op(jeq, _SYS_UNSHARE, n + 2, 0),  # -> flag check
        *(op(jeq, nr, n - i, 0) for i, nr in enumerate(denied)),  # -> EPERM
        op(ret, _ALLOW),
        op(ret, deny),
        op(ld, 16),  # low half of args[0]: the clone/unshare flags
        op(jset, CLONE_NEWUSER, 0, 1),
        op(ret, deny),
        op(ret, _ALLOW),
    ]
    return b"".join(prog)
