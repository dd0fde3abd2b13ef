"""The setup `make lab` relies on: nbgrader's JupyterLab and server extensions are enabled in the
virtualenv, and the Makefile has the commands the README tells people to run."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.paths import REPO, kernel_env

JUPYTER = str(Path(sys.executable).with_name("jupyter"))
SERVER_EXTENSIONS = ["formgrader", "assignment_list", "validate_assignment", "course_list"]
README_COMMANDS = {"lab", "test"}
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def _jupyter(*args: str) -> str:
    done = subprocess.run(
        [JUPYTER, *args], cwd=REPO, env=kernel_env(), capture_output=True, text=True, check=False
    )
    output = _ANSI.sub("", done.stdout + done.stderr)
    assert done.returncode == 0, f"`jupyter {' '.join(args)}` failed:\n{output}"
    return output


@pytest.mark.slow
def test_nbgrader_labextension_enabled() -> None:
    output = _jupyter("labextension", "list")
    assert re.search(r"@jupyter/nbgrader v\S+ enabled\s+OK", output), (
        f"@jupyter/nbgrader is not enabled in JupyterLab (run `make lab` once):\n{output}"
    )


@pytest.mark.slow
def test_nbgrader_server_extensions_enabled() -> None:
    output = _jupyter("server", "extension", "list")
    missing = [
        name
        for name in SERVER_EXTENSIONS
        if not re.search(rf"nbgrader\.server_extensions\.{name} enabled", output)
        or not re.search(rf"nbgrader\.server_extensions\.{name}\s+OK", output)
    ]
    assert not missing, f"nbgrader server extensions not enabled: {missing}\n{output}"


def _make(*args: str) -> subprocess.CompletedProcess[str]:
    """``make ARGS`` in the repo, free of the flags of a surrounding `make test`."""
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
    return subprocess.run(
        ["make", *args], cwd=REPO, env=env, capture_output=True, text=True, check=False
    )


@pytest.mark.slow
def test_make_setup_enables_the_extensions() -> None:
    """The install step of `make lab`/`make test` runs these; they are idempotent, so rerun them."""
    done = _make("--dry-run", "--always-make", "lab")
    commands = [line for line in done.stdout.splitlines() if "extension enable" in line]
    assert len(commands) == 2, f"the Makefile should enable nbgrader's extensions:\n{done.stdout}"
    for command in commands:
        ran = subprocess.run(
            ["bash", "-c", command],
            cwd=REPO,
            env=kernel_env(),
            capture_output=True,
            text=True,
            check=False,
        )
        assert ran.returncode == 0, f"the Makefile's `{command}` fails:\n{ran.stderr[-2000:]}"


GROUPED_TESTS = """
import os
import pytest

pytestmark = pytest.mark.xdist_group("one")


@pytest.mark.parametrize("i", range(6))
def test_worker(i):
    print(os.environ["PYTEST_XDIST_WORKER"], end="")
"""


@pytest.mark.slow
def test_xdist_loadgroup_keeps_a_group_on_one_worker(tmp_path: Path) -> None:
    """`make test` relies on xdist_group: shared notebook executions, one grading per course."""
    (tmp_path / "test_grouped.py").write_text(GROUPED_TESTS)
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-n", "2", "--dist", "loadgroup", "-rA", "-p",
         "no:cacheprovider", "-o", "addopts=", "--rootdir", str(tmp_path), str(tmp_path)],
        cwd=tmp_path, env=kernel_env(), capture_output=True, text=True, check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:]
    ran_on = set(re.findall(r"Captured stdout call -+\n(gw\d+)", done.stdout))
    assert len(ran_on) == 1, (
        f"one xdist_group ran on workers {sorted(ran_on)}: --dist loadgroup ignores the mark "
        f"with pytest {pytest.__version__} (pytest-dev/pytest-xdist#1386): install the pytest "
        "requirements.txt pins (`.venv/bin/pip install -r requirements.txt`)"
    )


def _make_targets() -> set[str]:
    makefile = (REPO / "Makefile").read_text()
    return set(re.findall(r"^([A-Za-z][\w-]*)\s*:(?!=)", makefile, flags=re.MULTILINE))


def test_readme_commands_are_make_targets() -> None:
    readme = (REPO / "README.md").read_text()
    named = set(re.findall(r"`make ([\w-]+)", readme))
    assert named >= README_COMMANDS, f"README.md should name `make lab` and `make test`: {named}"
    missing = named - _make_targets()
    assert not missing, f"README.md names make targets the Makefile lacks: {sorted(missing)}"


@pytest.mark.parametrize(("target", "runs"), [("lab", "jupyter lab"), ("test", "pytest")])
def test_make_target_runs(target: str, runs: str) -> None:
    done = _make("--dry-run", target)
    assert done.returncode == 0, f"`make --dry-run {target}` failed:\n{done.stderr}"
    assert runs in done.stdout, f"`make {target}` should run {runs}:\n{done.stdout}"
