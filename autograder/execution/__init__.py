"""Run one notebook in a fresh kernel: ``backend.run(notebook, files, env, limits) -> Execution``.

Backends behind one interface, all executing cells with the same runner (`_runner.py`) and all
taking the same `Limits` (built from the course's `Execute` settings by `limits_from_course`):

- `SandboxBackend`: each notebook in its own bubblewrap sandbox (own uid, no network, resource
  limits, the course hidden); what it protects and what not is in `_sandbox`'s docstring;
- `WarmSandboxBackend`: the same sandbox, but each learner's forked from a template that imported
  everything once (`_warm`); a cold sandbox where a run cannot be forked;
- `LocalBackend` (and `WarmLocalBackend`, forked from a template): a plain process on this
  machine, for trusted notebooks only.

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
from ._warm import WarmLocalBackend, WarmSandboxBackend

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
    "WarmLocalBackend",
    "WarmSandboxBackend",
    "describe_cell",
    "limits_from_course",
    "make_backend",
]


def make_backend(*, sandbox: bool, prestart: bool = True, hidden: Iterable[Path] = (),
                 warm: bool = False) -> Backend:
    """The sandbox (default) or, for trusted notebooks, the local backend; `warm`: forked from
    a template (its `check` says whether one can start here)."""
    if sandbox:
        if warm:
            return WarmSandboxBackend(prestart=prestart, hidden=hidden)
        return SandboxBackend(prestart=prestart, hidden=hidden)
    return WarmLocalBackend(prestart=prestart) if warm else LocalBackend(prestart=prestart)
