"""Run one notebook in a fresh kernel on this machine, without a sandbox (plain nbclient).

Same call shape as the sandbox (`autograder.sandbox.execute_sandboxed`), so the class-grading job
switches between them by name. Execution is nbgrader's own `Execute` preprocessor (same timeout,
interrupt and error rules as `nbgrader autograde`), so the outputs it leaves, and hence the scores,
are the ones nbgrader would give.

Two costs of `nbgrader autograde` are cut, never sharing a kernel between learners:
- the *next* kernel is started while the current notebook runs (`_spare`): its start-up (imports,
  ~0.5 s) overlaps the work instead of adding to it; it has run no code when its learner's
  notebook starts, and is killed after it;
- kernels are killed at once when the notebook is done, not shut down politely (~0.2 s each).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat
from jupyter_client.manager import AsyncKernelManager
from jupyter_core.utils import run_sync
from nbclient.exceptions import DeadKernelError
from traitlets.config import Config

CELL_TIMEOUT = 60.0
# Run in every kernel before the notebook, outside its history and namespace: the same random
# numbers on every run of a submission.
SEED_ARGUMENT = "--IPKernelApp.exec_lines=[\"__import__('random').seed(0)\"]"


@dataclass(frozen=True)
class Limits:
    """What one notebook may use (the local executor enforces the per-cell timeout only)."""

    cell_timeout: float = CELL_TIMEOUT


@dataclass
class Execution:
    """The executed notebook and how the run ended, with a learner-facing reason."""

    notebook: dict[str, Any]
    outcome: str  # "ok" | "timeout" | "kernel-died" | "memory" | "error"
    reason: str = ""
    failed_cell: int | None = None  # 1-based over all cells, as the sandbox numbers them


def describe_cell(nb: dict[str, Any], index: int | None) -> str:
    """'cell 4 (`import os`)': 1-based, with the cell's first line so a learner finds it."""
    if index is None or not 0 <= index < len(nb.get("cells", [])):
        return "a cell"
    source = nb["cells"][index].get("source", "")
    if isinstance(source, list):
        source = "".join(source)
    first = next((ln.strip() for ln in source.splitlines() if ln.strip()), "")
    first = first if len(first) <= 40 else first[:37] + "..."
    return f"cell {index + 1}" + (f" (`{first}`)" if first else "")


def exit_reason(code: int | None, where: str) -> tuple[str, str]:
    """(outcome, reason) for a kernel that ended with `code` while running `where`."""
    if code is not None and code in (-9, 137):
        return "memory", (f"the kernel was killed (signal 9) in {where}: it probably used too "
                          "much memory")
    if code is not None and code < 0:
        return "kernel-died", f"the kernel died (signal {-code}) in {where}"
    shown = "unknown" if code is None else str(code)
    return "kernel-died", f"the kernel died (exit code {shown}) in {where}"


@dataclass
class _Spare:
    key: tuple[Any, ...]
    km: AsyncKernelManager
    workdir: Path = field(default_factory=Path)


_local = threading.local()  # one pre-started kernel per thread (Dask runs jobs in threads)


def _launch(key: tuple[Any, ...]) -> _Spare:
    kernel_name, env_items, extra_args = key
    workdir = Path(tempfile.mkdtemp(prefix="grade-"))
    km = AsyncKernelManager(kernel_name=kernel_name)
    env = {**os.environ, **dict(env_items)}
    run_sync(km.start_kernel)(extra_arguments=list(extra_args), cwd=str(workdir), env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return _Spare(key, km, workdir)


def _kill(spare: _Spare) -> None:
    try:
        if run_sync(spare.km.is_alive)():
            run_sync(spare.km.shutdown_kernel)(now=True)
        run_sync(spare.km.cleanup_resources)()
    except Exception:  # a kernel that is already gone needs no cleaning
        pass
    shutil.rmtree(spare.workdir, ignore_errors=True)


def discard_spare() -> None:
    """Kill the pre-started kernel (end of a worker's life, or before a test checks processes)."""
    spare = getattr(_local, "spare", None)
    _local.spare = None
    if spare is not None:
        _kill(spare)


def _take(key: tuple[Any, ...], prestart: bool) -> _Spare:
    """A kernel that has run no code; with `prestart`, the next one is launched meanwhile."""
    spare = getattr(_local, "spare", None)
    _local.spare = None
    if spare is not None and (spare.key != key or not run_sync(spare.km.is_alive)()):
        _kill(spare)
        spare = None
    current = spare or _launch(key)
    if prestart:
        _local.spare = _launch(key)
    return current


def execute_local(nb: dict[str, Any] | nbformat.NotebookNode, *, limits: Limits = Limits(),
                  extra_files: dict[str, bytes] | None = None, env: dict[str, str] | None = None,
                  execute_config: dict[str, Any] | None = None,
                  prestart: bool = True) -> Execution:
    """Execute `nb` in a fresh kernel whose working folder holds `extra_files`.

    `execute_config` is the course's nbgrader config section for `Execute` (and its bases);
    `limits.cell_timeout` applies when it sets no timeout.
    """
    from nbgrader.preprocessors import Execute  # heavy; workers import it once

    notebook = nb if isinstance(nb, nbformat.NotebookNode) else nbformat.reads(
        json.dumps(nb), as_version=4)
    cfg = Config(execute_config or {})
    cfg.Execute.setdefault("timeout", int(limits.cell_timeout))
    ep = Execute(config=cfg)
    kernel_name = ep.kernel_name or notebook.metadata.get("kernelspec", {}).get("name", "python3")
    extra = [*ep.extra_arguments]
    if ep.ipython_hist_file and not any(a.startswith("--HistoryManager.hist_file") for a in extra):
        extra.append(f"--HistoryManager.hist_file={ep.ipython_hist_file}")
    extra.append(SEED_ARGUMENT)
    key = (kernel_name, tuple(sorted((env or {}).items())), tuple(extra))
    kernel = _take(key, prestart)
    for rel, data in (extra_files or {}).items():
        target = kernel.workdir / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    current: dict[str, int | None] = {"cell": None}

    def on_cell_execute(cell: Any, cell_index: int) -> None:
        current["cell"] = cell_index

    ep.on_cell_execute = on_cell_execute
    outcome, reason = "ok", ""
    try:
        ep.preprocess(notebook, {"metadata": {"path": str(kernel.workdir)}}, km=kernel.km)
    except DeadKernelError:
        code = run_sync(kernel.km.provisioner.poll)() if kernel.km.provisioner else None
        outcome, reason = exit_reason(code, describe_cell(notebook, current["cell"]))
    except Exception as err:  # nbclient's own failures: report, never crash the grader
        outcome = "error"
        reason = (f"the notebook could not be run ({type(err).__name__}: {err}) in "
                  f"{describe_cell(notebook, current['cell'])}")
    finally:
        try:
            if ep.kc is not None:
                ep.kc.stop_channels()
        except Exception:
            pass
        _kill(kernel)
    failed = current["cell"] if outcome != "ok" else None
    failed = None if failed is None else failed + 1
    if outcome == "ok":
        for index, cell in enumerate(notebook.cells):
            for out in cell.get("outputs", []):
                if out.get("output_type") == "error" and out.get("ename") == "CellTimeoutError":
                    outcome = "timeout"
                    reason = (f"{describe_cell(notebook, index)} ran longer than "
                              f"{ep.timeout} s and was stopped")
                    failed = index + 1
                    break
            if outcome == "timeout":
                break
    return Execution(dict(notebook), outcome, reason, failed)
