"""One interface for running a notebook, whatever contains the run: `Backend.run`.

`RunnerBackend` holds what every backend does the same way (refuse bad file names, drop submitted
outputs, use or start the spare runner, assemble the result); a backend only says how to launch
the runner (`launch`) and whether it can run here (`check`).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Mapping
from typing import Any, Protocol

import nbformat

from ._limits import Limits
from ._process import Launch, RunnerProcess, Spares, assemble, check_name, without_outputs
from ._result import Execution

__all__ = ["Backend", "BackendUnavailable", "RunnerBackend"]

#: The kernel's environment in every backend: the same hash seed, locale, zone and threads for
#: every learner, so a run does not depend on where it ran.
KERNEL_ENV = {
    "LANG": "C.UTF-8",
    "LC_ALL": "C.UTF-8",
    "TZ": "UTC",
    "PYTHONHASHSEED": "0",
    "PYTHONDONTWRITEBYTECODE": "1",
    "PYDEVD_DISABLE_FILE_VALIDATION": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "MALLOC_ARENA_MAX": "2",  # threads otherwise reserve 64 MB of address space each
}


class BackendUnavailable(RuntimeError):
    """The backend cannot run here (the message says why and what fixes it)."""


class Backend(Protocol):
    """Runs one notebook in a fresh kernel: ``run(notebook, files, env, limits) -> Execution``."""

    name: str

    def check(self) -> None:
        """Raise `BackendUnavailable` with the reason if this backend cannot run here."""

    def describe(self) -> str:
        """How runs are contained, in a few words (for the instructor's summary)."""

    def run(self, notebook: nbformat.NotebookNode, files: Mapping[str, bytes],
            env: Mapping[str, str], limits: Limits) -> Execution:
        """Execute every code cell; learner behaviour never raises, it becomes the outcome."""

    def close(self) -> None:
        """Stop the pre-started runners, if any."""


class RunnerBackend:
    """A backend that runs `_runner.py` in a process it launches (see `_process`)."""

    name = "runner"

    def __init__(self, *, prestart: bool = True) -> None:
        self.prestart = prestart
        self.spares = Spares()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} prestart={self.prestart}>"

    def check(self) -> None:
        """Nothing to check by default."""

    def describe(self) -> str:
        return self.name

    def launch(self, env: Mapping[str, str], limits: Limits) -> Launch:
        raise NotImplementedError

    def run(self, notebook: nbformat.NotebookNode, files: Mapping[str, bytes],
            env: Mapping[str, str], limits: Limits) -> Execution:
        """Run every code cell of `notebook` with `files` in its working folder.

        `files` maps relative paths to contents (ValueError for a path leaving the folder);
        `env` is added to the kernel's environment. With `prestart`, the next runner (same
        limits and env) boots before this returns, so the next call skips the kernel start.
        """
        self.check()
        for name in files:
            check_name(name)
        started = time.monotonic()
        request = without_outputs(notebook)
        key: tuple[Any, ...] = (limits, tuple(sorted(env.items())))
        try:
            box = self.spares.take(key) or RunnerProcess(lambda: self.launch(env, limits), limits,
                                                         key)
        except OSError as err:
            return Execution(request, "failed", f"the grading runner could not start ({err})")
        try:
            events, problem, stderr = box.run(request, files)
        finally:
            box.discard()
        cpu = box.cpu_seconds
        if self.prestart:
            with contextlib.suppress(Exception):  # a spare is an optimisation: never lose a result
                self.spares.put(RunnerProcess(lambda: self.launch(env, limits), limits, key))
        execution = assemble(request, events, problem, stderr, time.monotonic() - started)
        execution.cpu_seconds = cpu
        return execution

    def close(self) -> None:
        self.spares.discard_all()
