"""The local backend: the runner as a plain subprocess, the kernel as this user, unconfined.

For trusted notebooks only (``--no-sandbox``: the instructor's own, the tests'): learner code
runs with the grader's permissions, next to the gradebook. Cells are executed by the same runner
as in the sandbox, so timeouts, output budgets and cell verdicts are the sandbox's.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path

from ._backend import KERNEL_ENV, RunnerBackend
from ._limits import Limits
from ._process import GUARD, RUNNER, Launch, private_tmp

__all__ = ["LocalBackend"]


class LocalBackend(RunnerBackend):
    """Runs each notebook in a fresh kernel in a temporary folder of this machine."""

    name = "local"

    def describe(self) -> str:
        return "UNCONFINED (--no-sandbox): a plain process with your permissions"

    def launch(self, env: Mapping[str, str], limits: Limits) -> Launch:
        tmp = private_tmp("asyncourse-local-")
        root = Path(tmp.name)
        scratch = root / "home"
        scratch.mkdir()
        kernel_env = {**os.environ, **KERNEL_ENV, **env}
        kernel_env.pop("MPLBACKEND", None)  # the kernel's inline backend: images in the outputs
        return Launch(
            argv=[sys.executable, "-I", "-B", str(RUNNER)],
            env=dict(os.environ),
            setup={"kernel_env": kernel_env, "workdir": str(scratch),
                   "private": str(root / "runner"), "runtime": str(root / "runtime"),
                   "guard": str(GUARD)},
            scratch=scratch,
            cleanup=tmp.cleanup,
        )
