"""ruff on all Python code and mypy --strict on the helper package (configured in pyproject)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.support.paths import REPO, kernel_env

LINTED = ["src", "autograder", "tests", "benchmarks"]


def _run(tool: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", tool, *args],
        cwd=REPO,
        env=kernel_env(),
        capture_output=True,
        text=True,
        check=False,
    )


def test_ruff() -> None:
    present = [d for d in LINTED if (REPO / d).is_dir()]
    done = _run("ruff", "check", *present)
    assert done.returncode == 0, f"ruff check found problems:\n{done.stdout}{done.stderr}"


@pytest.mark.slow
def test_mypy() -> None:
    done = _run("mypy")
    assert done.returncode == 0, f"mypy found problems:\n{done.stdout}{done.stderr}"
