"""Runs one notebook in a fresh kernel; started by `autograder.execution` (every backend).

The same runner executes the cells whichever backend contains it, so cell timeouts, output
budgets and each cell's verdict mean the same thing everywhere. In the sandbox it is uid 0 of the
sandbox with just CAP_SETUID, CAP_SETGID (to start the kernel as the unprivileged learner uid)
and CAP_KILL (to interrupt and kill it); it never executes learner code itself: the kernel does,
as another uid with no capabilities, so it cannot read this process's memory (where the notebook
with its hidden tests lives; it arrives on stdin). The local backend runs it unconfined, with the
kernel as the same user.

Protocol. stdin: two JSON lines. Line 1 (limits, folders, kernel uid and environment) starts the
kernel at once; line 2 (the notebook) may come much later (a prestarted spare) and starts the
``total_timeout`` clock when it arrives.
stdout (a private copy of fd 1; fd 1 itself is pointed at stderr): JSON lines, each one event:
``{"event": "ready"}`` once the kernel answers, ``{"event": "start", "index": i}`` before cell
i runs, ``{"event": "done", "index": i, "outputs": [...], "execution_count": n, "status": s}``
after it (``s``: the execute reply's status, or ``timeout``), and last ``{"event": "end",
"outcome": ..., "reason": ..., "failed_cell": ..., "detail": ..., "language_info": {...}}``.
Cell numbers in reasons are 1-based over all cells. Standard library plus nbclient only: this file
is bound into the sandbox on its own.
"""

from __future__ import annotations

import ast
import asyncio
import contextlib
import ctypes
import hashlib
import hmac
import json
import os
import resource
import secrets
import signal
import sys
import threading
import time
from collections.abc import Callable
from typing import IO, Any, cast

# jsonschema (via nbformat) imports rfc3987_syntax if present, which builds a grammar: ~1.5 s per
# runner for a URI format check nobody here uses. Without it jsonschema skips that check.
sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]

from jupyter_client.kernelspec import KernelSpecManager  # noqa: E402
from jupyter_client.manager import AsyncKernelManager  # noqa: E402
from nbclient import NotebookClient  # noqa: E402
from nbclient.exceptions import DeadKernelError  # noqa: E402
from nbformat import NotebookNode  # noqa: E402
from nbformat import from_dict as _from_dict  # noqa: E402

from_dict = cast(Callable[[Any], NotebookNode], _from_dict)

INTERRUPT_GRACE = 3.0  # seconds a cell gets to stop after SIGINT before the kernel is killed
# The guard (`_guard.py`): how it is installed, how a locked cell is marked, what it writes.
INSTALL_GUARD = (
    "(lambda g: (exec(compile(open({path!r}).read(), {path!r}, 'exec'), g), "
    "g['install']({key!r}, {evidence!r})))({{'__name__': 'grader_guard'}})"
)
CHECK_MARK = "# grader-check "
DONE_CALL = '__import__("sys").audit("grader.done")'
INTEGRITY_ERROR = "GraderIntegrityError"
NOTE = "\n[output truncated: this cell wrote {total} of output; only the first {kept} are kept]\n"


def _size(n: int) -> str:
    return f"{n / (1 << 20):.1f} MB" if n >= 1 << 20 else f"{n / 1024:.0f} KB"


def _text_size(value: Any) -> int:
    if isinstance(value, str):
        return len(value.encode("utf-8", "replace"))
    if isinstance(value, list):
        return sum(_text_size(v) for v in value)
    if isinstance(value, dict):
        return sum(_text_size(k) + _text_size(v) for k, v in value.items())
    return len(json.dumps(value, default=str))


def _is_error(out: dict[str, Any]) -> bool:
    return (out.get("output_type") or out.get("msg_type")) == "error"


def _output_size(out: dict[str, Any]) -> int:
    """What an output costs to keep: its text, every MIME type's data and its metadata."""
    kind = out.get("output_type") or out.get("msg_type")
    if kind == "stream":
        return _text_size(out.get("text", ""))
    if kind == "error":
        return _text_size([out.get("ename", ""), out.get("evalue", ""), out.get("traceback", [])])
    return _text_size(out.get("data", {})) + _text_size(out.get("metadata", {}))


def _cut(text: str, limit: int) -> str:
    return text.encode("utf-8", "replace")[:limit].decode("utf-8", "ignore")


def enforce_budget(outputs: list[Any], budget: int, dropped: int = 0) -> list[Any]:
    """Keep at most `budget` bytes of output text; say what was cut in a stdout note.

    A stream is cut at the limit; other outputs over the limit are left out whole (half an image
    is no image), except an error, which is always kept (its traceback shortened): a cell's
    error must never vanish with its output. `dropped` counts bytes already discarded while the
    cell was running.
    """
    kept: list[Any] = []
    used = 0
    for out in outputs:
        size = _output_size(out)
        if _is_error(out):
            out["evalue"] = _cut(str(out.get("evalue", "")), 4096)
            out["traceback"] = [_cut(str(line), 4096) for line in out.get("traceback", [])[-8:]]
            kept.append(out)
            continue
        if used + size <= budget:
            kept.append(out)
            used += size
            continue
        dropped += size
        if out.get("output_type") == "stream" and used < budget:
            out["text"] = _cut(out["text"], budget - used)
            dropped -= _text_size(out["text"])
            used = budget
            kept.append(out)
    if dropped:
        note = NOTE.format(total=_size(used + dropped), kept=_size(budget))
        kept.append(from_dict({"output_type": "stream", "name": "stdout", "text": note}))
    return kept


class RunnerClient(NotebookClient):
    """nbclient with a per-cell output budget enforced as messages arrive (memory stays bounded),
    and each cell's execute reply status kept: the kernel's verdict, not the outputs', decides."""

    def __init__(self, nb: NotebookNode, km: AsyncKernelManager, budget: int, **kw: Any) -> None:
        super().__init__(nb, km=km, **kw)
        self.budget = budget
        self.used: dict[int, int] = {}
        self.dropped: dict[int, int] = {}
        self.replies: dict[int, dict[str, Any]] = {}
        self.on_cell_executed = self._keep_reply

    def _keep_reply(self, cell: NotebookNode, cell_index: int, execute_reply: Any) -> None:
        self.replies[cell_index] = dict(execute_reply.get("content", {}))

    def output(
        self, outs: list[Any], msg: dict[str, Any], display_id: str | None, cell_index: int
    ) -> Any:
        if self.clear_before_next_output:
            self.used[cell_index] = 0
        used = self.used.get(cell_index, 0)
        content = msg["content"]
        size = _output_size({"msg_type": msg["msg_type"], **content})
        if msg["msg_type"] == "error":  # never dropped: enforce_budget shortens it instead
            return super().output(outs, msg, display_id, cell_index)
        if used + size > self.budget:
            if msg["msg_type"] == "stream" and used < self.budget:
                content["text"] = _cut(content["text"], self.budget - used)
                self.dropped[cell_index] = (
                    self.dropped.get(cell_index, 0) + size - (self.budget - used)
                )
                size = self.budget - used
            else:
                self.dropped[cell_index] = self.dropped.get(cell_index, 0) + size
                return None
        self.used[cell_index] = used + size
        return super().output(outs, msg, display_id, cell_index)

    def clear_output(self, outs: list[Any], msg: dict[str, Any], cell_index: int) -> None:
        super().clear_output(outs, msg, cell_index)
        if not self.clear_before_next_output:
            self.used[cell_index] = 0


class Runner:
    def __init__(self, setup: dict[str, Any], channel: IO[str], notebook: NotebookLine) -> None:
        self.channel = channel
        self.notebook = notebook
        self.nb = from_dict({"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5})
        self.limits: dict[str, Any] = setup["limits"]
        self.uid: int | None = setup["kernel_uid"]
        self.kernel_env: dict[str, str] = setup["kernel_env"]
        self.workdir: str = setup["workdir"]
        self.private: str = setup["private"]  # the runner's own; the kernel cannot read it
        self.runtime: str = setup["runtime"]  # the kernel's connection file
        self.guard: str | None = setup.get("guard")  # the guard's file, as the kernel sees it
        self.key = bytes.fromhex(setup.get("key", ""))  # the guard's key (its file: in workdir)
        self.evidence = Evidence(os.path.join(self.workdir, ".grader-evidence"), self.key)
        self.integrity: str | None = None  # the first tampering seen: later tests score 0
        self.deadline = time.monotonic() + float(self.limits["total_timeout"])
        self.outcome = "completed"
        self.reason: str | None = None
        self.failed_cell: int | None = None
        self.detail: str | None = None
        self.km: AsyncKernelManager | None = None

    def emit(self, event: dict[str, Any]) -> None:
        self.channel.write(json.dumps(event, separators=(",", ":")) + "\n")
        self.channel.flush()

    def note(self, outcome: str, reason: str, cell: int | None, detail: str | None = None) -> None:
        """Record the first problem; later ones are consequences or less telling."""
        if self.outcome == "completed":
            self.outcome, self.reason, self.failed_cell, self.detail = outcome, reason, cell, detail

    def finish(self) -> None:
        """Report and leave at once: pid 1 of the sandbox then takes the kernel and its children."""
        self.emit(
            {
                "event": "end",
                "outcome": self.outcome,
                "reason": self.reason,
                "failed_cell": self.failed_cell,
                "detail": self.detail,
                "integrity": self.integrity,
                "language_info": self.nb.metadata.get("language_info"),
            }
        )
        os._exit(0)

    def kernel_cmd(self) -> list[str]:
        lim = self.limits
        cpu = int(lim["cpu_seconds"])
        prlimit = [
            "/usr/bin/prlimit",
            f"--cpu={cpu}:{cpu + 2}",
            f"--as={int(lim['memory_bytes'])}",
            f"--nproc={int(lim['max_processes'])}",
            f"--nofile={int(lim['max_open_files'])}",
            f"--fsize={int(lim['max_file_bytes'])}",
            "--core=0",
            "--",
        ]  # fmt: skip
        if self.uid is None and not os.path.exists(prlimit[0]):
            prlimit = []  # unconfined local runs: limits are a courtesy there, not protection
        return [
            *prlimit,
            sys.executable,
            "-P",  # cwd not on sys.path: a submitted asyncourse.py must not replace the package
            "-m",
            "ipykernel_launcher",
            "-f",
            "{connection_file}",
            "--HistoryManager.enabled=False",
            # determinism: the same random numbers for every learner (PYTHONHASHSEED is fixed too)
            "--IPKernelApp.exec_lines=[\"__import__('random').seed(0)\"]",
        ]

    def make_kernel_manager(self) -> AsyncKernelManager:
        kdir = os.path.join(self.private, "kernels", "sandbox")
        os.makedirs(kdir, exist_ok=True)
        # interrupts by message (the kernel signals itself): the runner needs no CAP_KILL
        spec = {"argv": self.kernel_cmd(), "display_name": "sandbox", "language": "python",
                "interrupt_mode": "message"}
        with open(os.path.join(kdir, "kernel.json"), "w") as f:
            json.dump(spec, f)
        runtime = self.runtime  # readable: the kernel reads its connection file here
        os.makedirs(runtime, mode=0o755, exist_ok=True)
        os.chmod(runtime, 0o755)

        class Manager(AsyncKernelManager):
            def write_connection_file(self, **kw: Any) -> None:
                super().write_connection_file(**kw)
                os.chmod(self.connection_file, 0o644)  # the kernel runs as another uid

        ksm = KernelSpecManager(kernel_dirs=[os.path.join(self.private, "kernels")])
        return Manager(
            kernel_name="sandbox",
            kernel_spec_manager=ksm,
            connection_file=os.path.join(runtime, "kernel.json"),
            transport="tcp",
            ip="127.0.0.1",
        )

    def exit_description(self) -> tuple[str, str]:
        """(outcome, words) for a kernel that is gone."""
        code = None
        proc = getattr(getattr(self.km, "provisioner", None), "process", None)
        if proc is not None:
            with contextlib.suppress(Exception):
                code = proc.wait(timeout=2)
        tail = ""
        err_file = os.path.join(self.private, "kernel.err")
        with contextlib.suppress(OSError), open(err_file, "rb") as f:
            f.seek(0, os.SEEK_END)
            f.seek(max(0, f.tell() - 4096))
            tail = f.read().decode("utf-8", "replace")
        self.detail = tail[-2000:] or None
        if code is not None and code < 0:
            name = signal.Signals(-code).name if -code in signal.valid_signals() else str(-code)
            if -code == signal.SIGXCPU:
                return "timeout", "ran out of CPU time"
            how = f"killed by signal {name}"
        else:
            how = f"exit code {code}" if code is not None else "exit code unknown"
        if "MemoryError" in tail or "Cannot allocate memory" in tail or "bad_alloc" in tail:
            return "memory", "memory limit reached"
        return "kernel-died", f"the kernel died ({how})"

    async def kill_kernel(self) -> None:
        if self.km is None or self.km.provisioner is None:
            return
        with contextlib.suppress(Exception):
            await self.km.provisioner.kill()

    async def run(self) -> None:
        budget = int(self.limits["max_output_bytes"])
        self.km = self.make_kernel_manager()
        client = RunnerClient(
            self.nb,
            km=self.km,
            budget=budget,
            timeout=None,
            allow_errors=True,
            kernel_name="sandbox",
            startup_timeout=max(1, int(float(self.limits["startup_timeout"]))),
            iopub_timeout=2,
            record_timing=False,
            # not nbclient's coalescing: its regex .*\r(?=[^\n]) is quadratic in a line's length,
            # so one 2 MB printed line hung the runner until the total timeout (all points lost)
            coalesce_streams=False,
            store_widget_state=False,
        )
        # the kernel writes its stderr here; 0600, so it cannot reopen the file through the
        # descriptor it inherits (/proc/self/fd/2) and read what the runner put there
        stderr = os.fdopen(os.open(os.path.join(self.private, "kernel.err"),
                                   os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb")
        as_user: dict[str, Any] = (
            {} if self.uid is None else {"user": self.uid, "group": self.uid, "extra_groups": []}
        )
        try:
            await client.async_start_new_kernel(
                cwd=self.workdir, env=self.kernel_env, stdout=stderr, stderr=stderr, **as_user
            )
            await client.async_start_new_kernel_client()
        except Exception as exc:
            self.exit_description()  # fills self.detail with the kernel's stderr
            self.note("failed", "the kernel could not start", None, f"{exc!r}\n{self.detail}")
            await self.kill_kernel()
            return
        finally:
            stderr.close()
        if self.guard is not None and not await self.install_guard(client):
            await self.kill_kernel()
            return
        if self.uid is not None:
            _drop_capabilities()  # the kernel runs: no more uid changes, nothing to signal
        self.emit({"event": "ready"})
        await asyncio.to_thread(self.notebook.arrived.wait)  # a spare waits here for its notebook
        if self.notebook.data is None:
            os._exit(0)  # stdin closed without a notebook: a discarded spare
        language_info = self.nb.metadata.get("language_info")
        self.nb = client.nb = from_dict(json.loads(self.notebook.data)["notebook"])
        if language_info:
            self.nb.metadata["language_info"] = language_info
        self.deadline = self.notebook.at + float(self.limits["total_timeout"])
        if not await self.km.is_alive():  # a spare's kernel that died idle: not the learner's doing
            self.exit_description()
            self.note("failed", "the kernel stopped before the notebook arrived", None, self.detail)
            return
        try:
            await self.run_cells(client)
        except Exception as exc:
            self.note("failed", "the grader failed", None, repr(exc))
        self.finish()  # no kernel shutdown: the pid namespace ends with this process

    async def install_guard(self, client: RunnerClient) -> bool:
        """Install the guard before any learner code; False (and a machinery failure) if not."""
        code = INSTALL_GUARD.format(path=self.guard, key=os.path.join(self.workdir, ".grader-key"),
                                    evidence=self.evidence.kernel_path)
        try:
            assert client.kc is not None
            msg_id = client.kc.execute(code, silent=True, store_history=False, allow_stdin=False)
            reply = await asyncio.wait_for(client.async_wait_for_reply(msg_id),
                                           float(self.limits["startup_timeout"]))
        except Exception as exc:
            self.note("failed", "the grader's guard could not be installed", None, repr(exc))
            return False
        content = (reply or {}).get("content", {})
        if content.get("status") != "ok" or not self.evidence.installed():
            self.note("failed", "the grader's guard could not be installed", None,
                      f"{content.get('ename')}: {content.get('evalue')}")
            return False
        return True

    def judge(self, cell: NotebookNode, number: int, status: str, nonce: str | None,
              sent: str, graded: bool) -> str:
        """A locked cell's verdict from its reply and the guard's evidence (graded cells pass
        only with both); the first tampering seen makes this and every later test fail."""
        if nonce is None:
            return status
        found = self.evidence.read(nonce, sent)
        if found.problem and self.integrity is None:
            self.integrity = f"{found.problem} (seen in cell {number})"
        if graded and status == "ok" and self.integrity is None and not found.ok:
            self.integrity = f"the grader's check did not confirm that cell {number} ran to its end"
        if graded and status == "ok" and self.integrity is not None:
            why = f"this test did not count: {self.integrity}; tests from there on score 0"
            cell.outputs.append(_error_output(INTEGRITY_ERROR, why))
            return "error"
        return status

    async def run_cells(self, client: RunnerClient) -> None:
        budget = int(self.limits["max_output_bytes"])
        cell_timeout = float(self.limits["cell_timeout"])
        for index, cell in enumerate(self.nb.cells):
            if cell.cell_type != "code" or not cell.source.strip():
                continue
            number = index + 1
            remaining = self.deadline - time.monotonic()
            if remaining <= 0:
                self.note("timeout", f"ran past the time limit in cell {number}", number)
                return
            self.emit({"event": "start", "index": index})
            limit = min(cell_timeout, remaining)
            original = cell.source
            locked, graded = _locked(cell)
            nonce = secrets.token_hex(12) if locked and self.guard is not None else None
            if nonce is not None:
                cell.source = _marked(original, nonce, graded)
            sent = cell.source
            task = asyncio.ensure_future(client.async_execute_cell(cell, index))
            done, _ = await asyncio.wait({task}, timeout=limit)
            fatal = timed_out = False
            if not done:
                timed_out = True
                why = f"ran past the time limit in cell {number}"
                self.note("timeout", why, number)
                with contextlib.suppress(Exception):
                    assert self.km is not None
                    await self.km.interrupt_kernel()
                done, _ = await asyncio.wait({task}, timeout=INTERRUPT_GRACE)
                if not done or limit < cell_timeout:
                    fatal = True
                    await self.kill_kernel()
                    task.cancel()
                    with contextlib.suppress(BaseException):
                        await task
                    cell.outputs.append(_error_output("TimeoutError", why))
            elif task.exception() is not None:
                fatal = True
                exc = task.exception()
                if isinstance(exc, DeadKernelError):
                    outcome, words = self.exit_description()
                    why = f"{words} in cell {number}"
                    self.note(outcome, why, number, self.detail)
                    cell.outputs.append(_error_output("DeadKernelError", why))
                else:  # nbclient could not follow what the learner's kernel sent
                    why = f"the kernel stopped answering as a kernel should in cell {number}"
                    self.note("kernel-died", why, number, repr(exc))
                    cell.outputs.append(_error_output("DeadKernelError", why))
                    await self.kill_kernel()
            if any(o.get("ename") == "MemoryError" for o in cell.get("outputs", [])):
                self.note("memory", f"memory limit reached in cell {number}", number)
            cell.source = original
            status = _reported(cell, client.replies.get(index), timed_out=timed_out)
            if not fatal:
                status = self.judge(cell, number, status, nonce, sent, graded)
            cell.outputs = enforce_budget(cell.outputs, budget, client.dropped.get(index, 0))
            result = {"outputs": cell.outputs, "execution_count": cell.get("execution_count"),
                      "status": status}
            self.emit({"event": "done", "index": index, **result})
            if fatal:
                return


def _locked(cell: NotebookNode) -> tuple[bool, bool]:
    """(locked, graded) from the nbgrader metadata the host restored from the gradebook."""
    meta = cell.get("metadata", {}).get("nbgrader", {})
    graded = bool(meta.get("grade")) and not meta.get("solution")
    return bool(meta.get("locked")) or graded, graded


def _marked(source: str, nonce: str, graded: bool) -> str:
    """The source sent for a locked cell: a graded one's last statement reports that it ran
    (wrapped, if it is an expression, so that IPython still shows its value); a last line
    tells the guard which cell this is."""
    source = source.rstrip()
    if graded:
        try:
            body = ast.parse(source).body
        except SyntaxError:
            body = []
        last = body[-1] if body else None
        if isinstance(last, ast.Expr) and last.end_lineno is not None:
            lines = source.split("\n")
            head = lines[: last.lineno - 1]
            tail = lines[last.end_lineno:]
            expr = "\n".join(lines[last.lineno - 1: last.end_lineno])
            source = "\n".join([*head, f"({expr.strip()}\n, {DONE_CALL})[0]", *tail])
        else:
            source = f"{source}\n{DONE_CALL}"
    return f"{source}\n{CHECK_MARK}{nonce}"


class Found:
    """What the guard reported for one cell."""

    def __init__(self, ok: bool, problem: str) -> None:
        self.ok, self.problem = ok, problem


class Evidence:
    """The guard's evidence file (in the kernel's folder): authenticated lines, read in order.

    Each cell line is ``nonce, ok, sha256(sent source), problem, HMAC(key, ...)``; a line that
    does not verify is ignored (the learner can write to the file, never with the key).
    ``problem``/``burned`` lines are the guard's unauthenticated words for the reason.
    """

    def __init__(self, path: str, key: bytes) -> None:
        self.kernel_path = path
        self.key = key
        self.offset = 0
        self.pending = b""
        self.words: str | None = None  # the guard's own words for the first problem

    def lines(self) -> list[str]:
        try:
            with open(self.kernel_path, "rb") as f:
                f.seek(self.offset)
                data = f.read(1 << 20)
        except OSError:
            return []
        self.offset += len(data)
        data = self.pending + data
        *complete, self.pending = data.split(b"\n")
        return [line.decode("utf-8", "replace") for line in complete]

    def installed(self) -> bool:
        return "installed" in self.lines()

    def read(self, nonce: str, sent: str) -> Found:
        digest = hashlib.sha256(sent.encode("utf-8", "surrogatepass")).hexdigest()
        found = Found(False, "")
        for line in self.lines():
            parts = line.split("\t")
            if parts[0] in ("problem", "burned") and len(parts) == 2 and self.words is None:
                self.words = parts[1][:300]
            if len(parts) != 5 or parts[0] != nonce:
                continue
            body = "\t".join(parts[:4])
            mac = hmac.new(self.key, body.encode(), "sha256").hexdigest()
            if not self.key or not hmac.compare_digest(mac, parts[4]) or parts[2] != digest:
                continue
            try:
                problem = bytes.fromhex(parts[3]).decode("utf-8", "replace")
            except ValueError:
                continue
            found = Found(parts[1] == "1", problem)
        if not found.ok and not found.problem and self.words:
            found.problem = self.words  # the key is gone or the line is missing: say why
        return found


def _reported(cell: NotebookNode, reply: dict[str, Any] | None, *, timed_out: bool) -> str:
    """The cell's verdict from its execute reply; an error the reply reports but the outputs lack
    (a learner's exception handler can hide it) is added, as nbgrader's own Execute does."""
    if timed_out:
        return "timeout"
    if reply is None:
        return "error"  # no reply at all: the kernel never said the cell succeeded
    status = str(reply.get("status", "error"))
    if status != "ok":
        ename = str(reply.get("ename") or "Error")
        if not any(o.get("output_type") == "error" for o in cell.get("outputs", [])):
            evalue = str(reply.get("evalue") or "the cell failed but its error was not shown")
            traceback = [str(t) for t in reply.get("traceback") or []] or [f"{ename}: {evalue}"]
            cell.outputs.append(from_dict({
                "output_type": "error", "ename": ename, "evalue": evalue, "traceback": traceback,
            }))  # fmt: skip
        return "error"
    return "ok"


def _error_output(ename: str, evalue: str) -> NotebookNode:
    return from_dict(
        {"output_type": "error", "ename": ename, "evalue": evalue, "traceback": [evalue]}
    )


def _set_limits(limits: dict[str, Any]) -> None:
    """Bound the runner itself (it holds outputs in memory) and stop core dumps."""
    mem = 2 * int(limits["memory_bytes"]) + (1 << 30)
    resource.setrlimit(resource.RLIMIT_AS, (mem, mem))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_FSIZE, (int(limits["max_file_bytes"]),) * 2)


def _drop_capabilities() -> None:
    """Give up every capability (CAP_SETUID, CAP_SETGID, CAP_KILL) before learner code runs:
    the kernel is started, interrupts go by message, and the sandbox ends when this process
    does, taking the kernel with it."""

    class Header(ctypes.Structure):
        _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]

    class Data(ctypes.Structure):
        _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32),
                    ("inheritable", ctypes.c_uint32)]

    header = Header(0x20080522, 0)  # _LINUX_CAPABILITY_VERSION_3
    data = (Data * 2)()
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.capset(ctypes.byref(header), data) != 0:
        raise OSError(ctypes.get_errno(), "capset failed: the runner keeps its capabilities")


def _set_nondumpable() -> None:
    """No /proc/<pid>/mem, environ or fd for anyone without CAP_SYS_PTRACE (defence in depth)."""
    pr_set_dumpable = 4
    with contextlib.suppress(Exception):
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_dumpable, 0, 0, 0, 0)


class NotebookLine:
    """Line 2 of stdin, read in a thread from the start: its arrival starts the clock."""

    def __init__(self) -> None:
        self.arrived = threading.Event()
        self.data: bytes | None = None
        self.at = time.monotonic()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        with contextlib.suppress(Exception):
            self.data = sys.stdin.buffer.readline() or None
        self.at = time.monotonic()
        self.arrived.set()


def main(runner_class: type[Runner] = Runner) -> int:
    """Run one notebook: setup on stdin's first line, then the notebook (see the docstring)."""
    channel = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)  # a stray print must not corrupt the protocol
    _set_nondumpable()
    setup = json.loads(sys.stdin.buffer.readline())
    os.makedirs(setup["private"], mode=0o700, exist_ok=True)
    _set_limits(setup["limits"])
    runner = runner_class(setup, channel, NotebookLine())
    try:
        asyncio.run(runner.run())
    except Exception as exc:  # never leave the host without an answer
        runner.note("failed", "the grader failed", None, repr(exc))
    runner.finish()
    return 0


if __name__ == "__main__":
    sys.exit(main())
