"""Where things are in this repository, and the environments tools run in.

The one place tests and benchmarks take paths from: the shipped ``autograder`` package never
computes the course from its own location (it is given the course on the command line).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SOURCE = REPO / "source"
RELEASE = REPO / "release"
NOTEBOOKS = REPO / "notebooks"
BANK = REPO / "tests" / "bank"
HOSTILE_CASES = REPO / "tests" / "hostile"
ARTIFACTS = REPO / "test-artifacts"


def tool_env() -> dict[str, str]:
    """Our environment with this interpreter's ``bin/`` first on PATH, as an activated venv has it.

    nbgrader runs ``alembic`` (its database migrations) by name, which fails when the virtualenv
    is used without being activated, as ``make test`` does.
    """
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([os.path.dirname(sys.executable), env.get("PATH", "")])
    return env


def kernel_env() -> dict[str, str]:
    """A kernel's environment: `tool_env` with a headless matplotlib."""
    env = tool_env()
    env["MPLBACKEND"] = "Agg"
    env["PYDEVD_DISABLE_FILE_VALIDATION"] = "1"  # debugpy's frozen-modules warning
    return env


def warm_unavailable() -> str | None:
    """Why the warm start cannot run here (Python under /tmp, as in a clone made with
    `mktemp -d`: each forked learner gets a fresh /tmp), or None."""
    from autograder.execution._warm import _under_private_tmp

    root = _under_private_tmp()
    return f"the warm start is unavailable: Python lives under /tmp ({root})" if root else None
