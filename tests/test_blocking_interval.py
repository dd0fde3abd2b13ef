"""A blocking socket call in real time is drawn where the loop stalled, not after it."""

from __future__ import annotations

import asyncio
import socket
import threading
import time

from asyncourse import run_real


def _answer_late(listener: socket.socket) -> None:
    conn, _ = listener.accept()
    time.sleep(0.1)
    conn.sendall(b"hi")
    conn.close()


async def _fetch(port: int) -> bytes:
    with socket.create_connection(("127.0.0.1", port)) as sock:
        return sock.recv(2)  # blocks the loop until the server answers


async def _recorded() -> tuple[float, float, float, float]:
    with socket.create_server(("127.0.0.1", 0)) as listener:
        threading.Thread(target=_answer_late, args=(listener,), daemon=True).start()
        run = await run_real(_fetch, listener.getsockname()[1])
    task = run.recording.task("_fetch")
    longest = max((i for _, i in run.recording.intervals("blocked")), key=lambda i: i.duration)
    assert task.started is not None and task.ended is not None
    return longest.start, longest.end, task.started, task.ended


def test_blocked_interval_lies_inside_the_call() -> None:
    start, end, started, ended = asyncio.run(_recorded())
    assert end > start
    assert started <= start and end <= ended, (
        f"blocked {start:.3f}-{end:.3f} s lies outside the task's run {started:.3f}-{ended:.3f} s"
    )
