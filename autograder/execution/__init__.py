"""Run one notebook in a fresh kernel: ``backend.run(notebook, files, env, limits) -> Execution``.

Two backends behind one interface, both executing cells with the same runner (`_runner.py`) and
both taking the same `Limits` (built from the course's `Execute` settings by `limits_from_course`):

- `SandboxBackend`: each notebook in its own bubblewrap sandbox (own uid, no network, resource
  limits, the course hidden); what it protects and what not is in `_sandbox`'s docstring;
- `LocalBackend`: a plain subprocess on this machine, for trusted notebooks only.

`Execution.cells` holds each code cell's verdict from the kernel's execute reply;
`Execution.outcome` says how the run ended, and ``failed`` (the machinery's fault) is never a
grade.
"""

from collections.abc import Iterable
from pathlib import Path

from ._backend import Backend, BackendUnavailable
from ._limits import Limits, UnsupportedSetting, limits_from_course
from ._local import LocalBackend
from ._result import CellRun, CellStatus, Execution, RunOutcome, describe_cell
from ._sandbox import SandboxBackend

__all__ = [
    "Backend",
    "BackendUnavailable",
    "CellRun",
    "CellStatus",
    "Execution",
    "Limits",
    "LocalBackend",
    "RunOutcome",
    "SandboxBackend",
    "UnsupportedSetting",
    "describe_cell",
    "limits_from_course",
    "make_backend",
]


def make_backend(*, sandbox: bool, prestart: bool = True, hidden: Iterable[Path] = ()) -> Backend:
    """The sandbox (default) or, for trusted notebooks, the local backend."""
    if sandbox:
        return SandboxBackend(prestart=prestart, hidden=hidden)
    return LocalBackend(prestart=prestart)
