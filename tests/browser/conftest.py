"""Fixtures for the browser tests: a real JupyterLab on the course, driven by headless Chromium.

JupyterLab is started the way `make lab` starts it (`jupyter lab --no-browser --port=P
--ServerApp.token=T --ServerApp.root_dir=R`), on a free localhost port with a fresh token, in a
temporary copy of the course (so formgrader's gradebook, saved notebooks and checkpoints never
land in the repo) and with temporary Jupyter config/data/settings folders (so the user's own
Jupyter setup cannot change what the tests see). Chromium is Debian's (`tools/system-deps.sh`
installs it); a missing browser fails the tests with the command that fixes it, never skips them.

Written by hand because pytest-playwright cannot use a system Chromium without its own download
and knows nothing about starting a Jupyter server; everything else is Playwright's own API.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.support.paths import ARTIFACTS as ARTIFACTS_ROOT
from tests.support.paths import REPO

ARTIFACTS = ARTIFACTS_ROOT / "browser"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# What the course copy needs: the lectures, the assignments and nbgrader's config.
COURSE_ENTRIES = ["notebooks", "source", "release", "nbgrader_config.py"]
COPY_IGNORE = shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__", "*.pyc")
_T0 = time.monotonic()  # when this pytest process imported the fixtures
START_TIMEOUT = 90.0  # seconds for JupyterLab to answer /api/status on a busy 2-core machine
# JupyterLab user settings for the test run: no "fetch news?" toast over the page, and every
# cell attached to the DOM so outputs of cells below the fold can be inspected.
LAB_SETTINGS = {
    "@jupyterlab/apputils-extension/notification": {"fetchNews": "false", "checkForUpdates": False},
    "@jupyterlab/notebook-extension/tracker": {"windowingMode": "none"},
}


def chromium_path() -> str:
    """Debian's Chromium, or fail saying how to install it (the tests must not skip silently)."""
    found = os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    if not os.access(found, os.X_OK):
        pytest.fail(
            "Chromium is missing, so the browser tests cannot run: install it with "
            "`sudo bash tools/system-deps.sh` (or `sudo apt-get install chromium`), "
            "or point the CHROMIUM environment variable at a Chromium binary.",
            pytrace=False,
        )
    return found


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def descendants(pid: int) -> list[int]:
    """Process ids below `pid` (kernels run in their own session, so killpg misses them)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        fields = text[text.rfind(")") + 2 :].split()
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


@dataclass
class Lab:
    """A running JupyterLab: `url(path)` gives an authenticated address in it."""

    base: str
    token: str
    root: Path
    log: Path
    proc: subprocess.Popen[bytes] = field(repr=False)

    def url(self, path: str = "lab") -> str:
        sep = "&" if "?" in path else "?"
        return f"{self.base}/{path.lstrip('/')}{sep}token={self.token}"

    def api(self, path: str, method: str = "GET", timeout: float = 10.0) -> object:
        req = urllib.request.Request(
            f"{self.base}/{path.lstrip('/')}",
            method=method,
            headers={"Authorization": f"token {self.token}"},
        )
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            body = resp.read()
        return json.loads(body) if body else None

    def shutdown_kernels(self) -> None:
        """Stop the kernels the test's notebooks started (they would idle until the end)."""
        with contextlib.suppress(OSError, urllib.error.URLError, ValueError):
            kernels = self.api("api/kernels")
            for kernel in kernels if isinstance(kernels, list) else []:
                self.api(f"api/kernels/{kernel['id']}", method="DELETE", timeout=30)

    def log_tail(self, lines: int = 40) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])


@pytest.fixture(scope="session")
def artifacts() -> Path:
    """test-artifacts/browser/, without the files of earlier runs (another xdist worker's files
    of this run are newer than this process and stay)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    started = time.time() - time.monotonic() + _T0
    for old in ARTIFACTS.iterdir():
        if old.is_file() and old.stat().st_mtime < started:
            old.unlink(missing_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="module")
def course(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A temporary copy of the course: JupyterLab and nbgrader may write there freely."""
    root = tmp_path_factory.mktemp("course")
    for name in COURSE_ENTRIES:
        src = REPO / name
        if src.is_dir():
            shutil.copytree(src, root / name, ignore=COPY_IGNORE)
        elif src.exists():
            shutil.copy2(src, root / name)
    return root


def _die_with_parent() -> None:
    """In the child before exec: get SIGTERM when pytest dies, even by SIGKILL (Linux), so a
    killed test run leaves no JupyterLab behind (its SIGTERM handler stops the kernels)."""
    if sys.platform == "linux":
        ctypes.CDLL(None).prctl(1, signal.SIGTERM)  # 1 = PR_SET_PDEATHSIG


def _jupyter_env(home: Path) -> dict[str, str]:
    env = dict(os.environ)
    for var, sub in [
        ("JUPYTER_CONFIG_DIR", "config"),
        ("JUPYTER_DATA_DIR", "data"),
        ("JUPYTER_RUNTIME_DIR", "runtime"),
        ("JUPYTERLAB_SETTINGS_DIR", "lab-settings"),
        ("JUPYTERLAB_WORKSPACES_DIR", "lab-workspaces"),
        ("IPYTHONDIR", "ipython"),
    ]:
        (home / sub).mkdir(parents=True, exist_ok=True)
        env[var] = str(home / sub)
    for plugin, values in LAB_SETTINGS.items():
        target = home / "lab-settings" / f"{plugin}.jupyterlab-settings"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(values))
    env.pop("JUPYTER_TOKEN", None)
    # As `make` does (Makefile: export PATH): nbgrader's gradebook runs `alembic` from PATH.
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    env["PYTHONUNBUFFERED"] = "1"
    return env


def _stop(lab: Lab) -> None:
    """Shut JupyterLab down (kernels included) and make sure nothing it started survives."""
    proc = lab.proc
    kids = descendants(proc.pid)
    if proc.poll() is None:
        with contextlib.suppress(OSError, urllib.error.URLError):
            lab.api("api/shutdown", method="POST", timeout=5)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            try:
                os.killpg(proc.pid, signal.SIGTERM)
                proc.wait(timeout=10)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                pass
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    for pid in kids:  # kernels live in their own sessions
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    proc.wait(timeout=10)


@pytest.fixture(scope="module")
def lab(course: Path, tmp_path_factory: pytest.TempPathFactory, artifacts: Path) -> Iterator[Lab]:
    """JupyterLab on the course copy, started like `make lab`; stopped with all its kernels."""
    home = tmp_path_factory.mktemp("jupyter-home")
    env = _jupyter_env(home)
    token = secrets.token_hex(16)
    port = free_port()
    log = home / "jupyterlab.log"
    cmd = [
        sys.executable, "-m", "jupyter", "lab", "--no-browser",
        f"--port={port}", "--ip=127.0.0.1", "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={course}",
    ]  # fmt: skip
    if os.geteuid() == 0:  # containers and CI runners often run as root
        cmd.append("--allow-root")
    with log.open("wb") as out:
        proc = subprocess.Popen(
            cmd, cwd=course, env=env, stdout=out, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, start_new_session=True, preexec_fn=_die_with_parent,
        )  # fmt: skip
    lab = Lab(f"http://127.0.0.1:{port}", token, course, log, proc)
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if proc.poll() is not None:
                pytest.fail(f"JupyterLab exited with {proc.returncode}:\n{lab.log_tail()}")
            try:
                status = lab.api("api/status", timeout=2)
                if isinstance(status, dict) and "started" in status:
                    break
            except (OSError, urllib.error.URLError, ValueError):
                pass
            if time.monotonic() > deadline:
                pytest.fail(
                    f"JupyterLab did not answer in {START_TIMEOUT:.0f} s:\n{lab.log_tail()}"
                )
            time.sleep(0.25)
        yield lab
    finally:
        _stop(lab)
        worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
        shutil.copy2(log, artifacts / f"jupyterlab-{worker}.log")


# Module scope, not session: Playwright's sync API keeps an asyncio loop "running" in this
# thread while it is open, which would make asyncio.run() fail in later tests on this worker.
@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    executable = chromium_path()
    from playwright.sync_api import expect, sync_playwright

    # Waits are on states; 30 s (not Playwright's 5 s) leaves room for a busy 2-core machine.
    expect.set_options(timeout=30_000)

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(
            executable_path=executable, args=CHROMIUM_ARGS, headless=True, timeout=60_000
        )
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)


@pytest.fixture
def page(browser, lab: Lab, artifacts: Path, request: pytest.FixtureRequest):  # type: ignore[no-untyped-def]
    """A fresh browser tab; on failure its screenshot lands in test-artifacts/browser/."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.set_default_timeout(30_000)
    context.set_default_navigation_timeout(60_000)
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        yield tab
    finally:
        rep = getattr(request.node, "rep_call", None)
        if rep is not None and rep.failed:
            name = re.sub(r"[^\w.-]+", "_", request.node.name)
            with contextlib.suppress(Exception):  # it must not hide the failure itself
                tab.screenshot(path=str(artifacts / f"FAILED-{name}.png"), timeout=10_000)
            if errors:
                (artifacts / f"FAILED-{name}.pageerrors.txt").write_text("\n".join(errors))
        context.close()
        lab.shutdown_kernels()
