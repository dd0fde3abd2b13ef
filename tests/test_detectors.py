"""Pitfall detectors: each finding names the mistake, and nothing reaches stderr."""

from __future__ import annotations

import asyncio
import gc
import json
import threading
import time
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from time import sleep as imported_sleep

import httpx
import pytest
import requests

from asyncourse import run_real, run_virtual


async def fetch(n: int) -> int:
    await asyncio.sleep(n)
    return n


def test_forgotten_await_is_named_with_its_line(capfd: pytest.CaptureFixture[str]) -> None:
    async def main() -> None:
        fetch(1)  # the mistake
        await asyncio.sleep(1)

    run = run_virtual(main)
    line = main.__code__.co_firstlineno + 1
    assert run.messages() == [
        f"the coroutine `fetch` created at line {line} (in `main`) was never awaited: put "
        "`await` before the call (or pass it to asyncio.create_task / gather)"]
    gc.collect()
    assert capfd.readouterr().err == ""


def test_forgotten_await_kept_in_a_cycle_or_in_the_result_is_found() -> None:
    async def cycle() -> None:
        holder: dict[str, object] = {}
        holder["self"], holder["coro"] = holder, fetch(2)

    async def returns_coroutines() -> list[object]:
        return [fetch(1), fetch(2)]

    assert [f.kind for f in run_virtual(cycle, thorough=True).findings] == ["never-awaited"]
    run = run_virtual(returns_coroutines)
    assert [f.kind for f in run.findings] == ["never-awaited", "never-awaited"]
    assert all(c.cr_frame is None for c in run.result)  # closed: no warning later


def test_silenced_warnings_do_not_hide_a_forgotten_await() -> None:
    import warnings

    async def sneaky() -> None:
        warnings.filterwarnings("ignore")
        fetch(1)

    try:
        assert [f.kind for f in run_virtual(sneaky).findings] == ["never-awaited"]
    finally:
        warnings.resetwarnings()


def test_time_sleep_blocks_the_loop_and_is_charged_to_the_clock() -> None:
    async def slow(n: int) -> int:
        time.sleep(n)
        return n

    async def main() -> list[int]:
        return await asyncio.gather(slow(1), slow(2))

    run = run_virtual(main)
    assert run.elapsed == 3.0
    line = slow.__code__.co_firstlineno + 1
    assert run.messages() == [f"the event loop was blocked 3.0 s in total by 2 calls of "
                              f"`time.sleep` in `slow` at line {line}"]
    blocked = run.recording.intervals("blocked")
    assert [(label, i.start, i.end) for label, i in blocked] == [("slow(1)", 0.0, 1.0),
                                                                ("slow(2)", 1.0, 3.0)]


def test_sleep_imported_before_the_run_is_caught_too() -> None:
    async def slow() -> None:
        imported_sleep(0.5)

    run = run_virtual(slow)
    assert run.elapsed == 0.5
    assert "blocked 0.5 s by `time.sleep` in `slow`" in run.messages()[0]
    assert imported_sleep is time.sleep  # the swap is undone


def test_lost_task_and_unretrieved_exception() -> None:
    async def fire_and_forget() -> None:
        asyncio.create_task(fetch(5))  # noqa: RUF006  (the mistake under test)
        await asyncio.sleep(1)

    async def boom() -> None:
        raise ValueError("lost error")

    async def ignores_error() -> None:
        asyncio.create_task(boom())  # noqa: RUF006  (the mistake under test)
        await asyncio.sleep(1)

    assert run_virtual(fire_and_forget).messages() == [
        "the task `fetch(5)` (asyncio.sleep(5)) was still running when `fire_and_forget` "
        "finished: nothing awaited it or kept it, so its work was lost (await it, cancel it, or "
        "use a TaskGroup)"]
    findings = run_virtual(ignores_error, thorough=True).findings
    assert [f.kind for f in findings] == ["unretrieved-exception"]
    assert "`boom()` raised ValueError: lost error" in findings[0].message


class _Hello(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = json.dumps({"path": self.path}).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Hello)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}"
    httpd.shutdown()
    httpd.server_close()


def test_blocking_http_clients_are_named(server: str) -> None:
    async def with_requests() -> str:
        return str(requests.get(f"{server}/a", timeout=5).json()["path"])

    async def with_urllib() -> bytes:
        with urllib.request.urlopen(f"{server}/b", timeout=5) as reply:
            return bytes(reply.read())

    run = run_virtual(with_requests)
    assert run.result == "/a"
    assert run.messages()[0].startswith(
        "the event loop was blocked by the blocking network call `requests.get` in "
        "`with_requests` at line")
    assert "`urllib.request.urlopen` in `with_urllib`" in run_virtual(with_urllib).messages()[0]


def test_async_client_against_a_thread_server_is_clean_and_never_times_out(server: str) -> None:
    async def main() -> list[str]:
        async with httpx.AsyncClient(timeout=1.0) as client:
            replies = await asyncio.gather(*(client.get(f"{server}/{i}") for i in range(5)))
        await asyncio.sleep(10)
        return [r.json()["path"] for r in replies]

    for _ in range(5):
        run = run_virtual(main)
        assert run.result == [f"/{i}" for i in range(5)]
        assert run.findings == [] and run.elapsed == 10.0


def test_run_real_records_a_blocking_sleep_on_a_live_loop() -> None:
    async def blocker() -> None:
        time.sleep(0.05)

    async def main() -> list[str]:
        run = await run_real(blocker)
        return run.messages()

    assert asyncio.run(main())[0].startswith("the event loop was blocked 0.05 s by `time.sleep`")


def test_kernel_threads_keep_the_real_sleep() -> None:
    """Only the run's threads are affected: a thread started before the run (as a kernel's
    threads are) sleeping meanwhile really sleeps."""
    slept: list[float] = []

    def other() -> None:
        started = time.perf_counter()
        time.sleep(0.2)
        slept.append(time.perf_counter() - started)

    thread = threading.Thread(target=other)
    thread.start()

    async def main() -> None:
        await asyncio.to_thread(thread.join)

    run = run_virtual(main)
    assert slept and slept[0] >= 0.2 and run.findings == []
