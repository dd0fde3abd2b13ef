"""The bubblewrap command line of one sandbox: namespaces, what of the host it sees, the runner.

The root is made of read-only binds of ``/usr``, an allowlist of ``/etc`` files, the Python
installation, the virtualenv and the folder of the installed helper package; nothing else of the
host: not the course (``source/``, ``autograder/``, ``submitted/``, ``gradebook.db``), not
``/root``, ``/home``, ``/work``. A path to bind that would show a hidden folder (the course) is
refused rather than bound.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from collections.abc import Iterable
from pathlib import Path

from ._process import GUARD, RUNNER

__all__ = ["GUARD_IN_SANDBOX", "HELPER_IN_SANDBOX", "RUNNER_IN_SANDBOX", "WORKDIR", "arguments",
           "namespace_args", "system_binds"]

RUNNER_IN_SANDBOX = "/opt/asyncourse-sandbox/runner.py"
HELPER_IN_SANDBOX = "/opt/asyncourse-sandbox/helper"
GUARD_IN_SANDBOX = "/opt/asyncourse-sandbox/guard.py"
WORKDIR = "/home/learner"
ETC_ALLOWLIST = (
    "passwd", "group", "hosts", "nsswitch.conf", "host.conf", "localtime", "ld.so.cache",
    "ld.so.conf", "ld.so.conf.d", "mime.types", "fonts", "ssl/openssl.cnf", "alternatives",
)  # fmt: skip


class Exposes(RuntimeError):
    """A bind would show the sandbox a folder it must not see."""


RUNNER_CAPS = ("CAP_SETUID", "CAP_SETGID")
#: The warm template's: it makes each learner's namespaces and mounts (CAP_SYS_ADMIN), brings up
#: their loopback (CAP_NET_ADMIN) and narrows each runner's bounding set (CAP_SETPCAP); it never
#: runs learner code, and every process it forks for a learner gives these up (see `_template`).
TEMPLATE_CAPS = (*RUNNER_CAPS, "CAP_SYS_ADMIN", "CAP_NET_ADMIN", "CAP_SETPCAP")
TEMPLATE_FILES = {"_template.py": "_template.py", "_forked.py": "_forked.py",
                  "_linux.py": "_linux.py"}
SANDBOX_DIR = "/opt/asyncourse-sandbox"


def namespace_args(caps: tuple[str, ...] = RUNNER_CAPS) -> list[str]:
    return [
        "--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts",
        "--unshare-cgroup-try", "--hostname", "sandbox", "--die-with-parent", "--new-session",
        "--cap-drop", "ALL", *(arg for cap in caps for arg in ("--cap-add", cap)),
    ]  # fmt: skip


def parents(path: Path | str) -> list[str]:
    """Create the ancestors of a bind target traversable (bwrap would make them 0700)."""
    args: list[str] = []
    for parent in reversed(Path(path).parents[:-1]):
        args += ["--perms", "0755", "--dir", str(parent)]
    return args


def system_binds() -> list[str]:
    args = ["--ro-bind", "/usr", "/usr"]
    for top in ("bin", "sbin", "lib", "lib32", "lib64", "libx32"):
        path = Path("/") / top
        if path.is_symlink():
            args += ["--symlink", os.readlink(path), str(path)]
        elif path.is_dir():
            args += ["--ro-bind", str(path), str(path)]
    if os.path.isdir("/var/cache/fontconfig"):  # system font cache: fc-list need not rebuild it
        args += [*parents("/var/cache/fontconfig")]
        args += ["--ro-bind", "/var/cache/fontconfig", "/var/cache/fontconfig"]
    for name in ETC_ALLOWLIST:
        if os.path.exists(f"/etc/{name}"):
            args += [*parents(f"/etc/{name}"), "--ro-bind", f"/etc/{name}", f"/etc/{name}"]
    args += ["--proc", "/proc", "--dev", "/dev"]
    args += ["--perms", "0755", "--size", str(64 << 20), "--tmpfs", "/tmp"]
    args += ["--perms", "1777", "--size", str(64 << 20), "--tmpfs", "/dev/shm"]
    return args


def helper_package_root() -> Path | None:
    """The folder holding the installed ``asyncourse`` package (``src/`` of an editable install)."""
    spec = importlib.util.find_spec("asyncourse")
    if spec is None or spec.origin is None:
        return None
    return Path(spec.origin).resolve().parent.parent


def python_binds(hidden: Iterable[Path]) -> list[str]:
    """The interpreter and the venv read-only at their paths; the folder of the helper package
    (an editable install's ``src/``, inside the course) at `HELPER_IN_SANDBOX`, so that the
    course's path appears nowhere in the sandbox (the kernel finds it through PYTHONPATH)."""
    roots = {Path(sys.base_prefix).resolve(), Path(sys.prefix), Path(sys.prefix).resolve()}
    roots.add(Path(sys.executable).resolve().parent.parent)
    helper = helper_package_root()
    hide = [h.resolve() for h in hidden]
    args: list[str] = []
    for root in sorted(roots, key=lambda p: len(p.parts)):
        if str(root).startswith(("/usr/", "/bin", "/lib")) or str(root) == "/usr":
            continue
        for secret in hide:
            if root == secret or root.resolve() in secret.parents:
                raise Exposes(f"Python or the helper package lives in {root}, which holds "
                              f"{secret}: the sandbox cannot show one without the other")
        args += [*parents(root), "--ro-bind", str(root), str(root)]
    if helper is not None and not any(helper.is_relative_to(root) for root in roots):
        for secret in hide:
            if helper == secret or helper in secret.parents:
                raise Exposes(f"the helper package lives in {helper}, which holds {secret}: "
                              "the sandbox cannot show one without the other")
        args += [*parents(HELPER_IN_SANDBOX), "--ro-bind", str(helper), HELPER_IN_SANDBOX]
    return args


def arguments(scratch: Path, seccomp_fd: int | None, hidden: Iterable[Path]) -> list[str]:
    """bwrap's arguments (given on a descriptor with ``--args``, so that /proc/1/cmdline in the
    sandbox shows no host path)."""
    return [
        *namespace_args(),
        *(["--seccomp", str(seccomp_fd)] if seccomp_fd is not None else []),
        *system_binds(),
        *python_binds(hidden),
        *parents(RUNNER_IN_SANDBOX),
        "--ro-bind", str(RUNNER), RUNNER_IN_SANDBOX,
        "--ro-bind", str(GUARD), GUARD_IN_SANDBOX,
        *parents(WORKDIR),
        "--bind", str(scratch), WORKDIR,
        "--chdir", "/tmp",
    ]  # fmt: skip


def template_arguments(seccomp_fd: int | None, hidden: Iterable[Path],
                       font_cache: Path | None) -> list[str]:
    """The warm template's sandbox: a cold sandbox's root, without a scratch folder of the
    host's (each learner gets a tmpfs of its own at `WORKDIR`, mounted by the template), with
    the template's files and a private HOME holding matplotlib's font list."""
    here = Path(__file__).parent
    args = [
        *namespace_args(TEMPLATE_CAPS),
        *(["--seccomp", str(seccomp_fd)] if seccomp_fd is not None else []),
        *system_binds(),
        *python_binds(hidden),
        *parents(RUNNER_IN_SANDBOX),
        "--ro-bind", str(RUNNER), RUNNER_IN_SANDBOX,
        "--ro-bind", str(GUARD), GUARD_IN_SANDBOX,
        *(arg for name, target in TEMPLATE_FILES.items()
          for arg in ("--ro-bind", str(here / name), f"{SANDBOX_DIR}/{target}")),
        *parents(WORKDIR),
        "--perms", "0755", "--tmpfs", WORKDIR,
        "--chdir", "/tmp",
    ]  # fmt: skip
    if font_cache is not None:
        cache = f"{WORKDIR}/.cache/matplotlib"
        args += ["--dir", f"{WORKDIR}/.cache", "--dir", cache,
                 "--ro-bind", str(font_cache), f"{cache}/{font_cache.name}"]
    return args


def template_command(control_fd: int) -> list[str]:
    return ["--", sys.executable, "-s", "-P", "-B", f"{SANDBOX_DIR}/_template.py",
            str(control_fd), "sandbox"]


def command() -> list[str]:
    """What bwrap runs: the runner (bwrap takes the command on its real command line)."""
    return ["--", sys.executable, "-I", "-B", RUNNER_IN_SANDBOX]
