"""How much faster than real time the virtual loop runs, recorder and detectors included.

Two scenarios, each measured in this one run:

- *the course's scale*: 1,000 tasks sleep across 60 virtual seconds (task i sleeps
  ``60 * (i + 1) / 1000`` s), as a lecture or a hidden test would;
- *a stress test*: 1,000 tasks each sleep 60 times for 1 s (61,000 timers, 6,000 distinct
  instants), which measures the per-step cost of recording.

Prints the wall time, the virtual elapsed time and their ratio for each (target >= 50x for the
first), and the same stress run on a bare ``VirtualEventLoop`` to show the recorder's share.

    .venv/bin/python benchmarks/virtual_time.py [--tasks 1000] [--seconds 60]
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections.abc import Awaitable, Callable

from asyncourse import VirtualEventLoop, run_virtual


async def once(i: int, tasks: int, seconds: int) -> int:
    await asyncio.sleep(seconds * (i + 1) / tasks)
    return i


async def ticker(i: int, tasks: int, seconds: int) -> int:
    await asyncio.sleep((i % 100) / 100)  # stagger: 100 distinct offsets
    for _ in range(seconds):
        await asyncio.sleep(1)
    return i


def crowd(step: Callable[[int, int, int], Awaitable[int]],
          tasks: int, seconds: int) -> Callable[[], Awaitable[list[int]]]:
    async def main() -> list[int]:
        return list(await asyncio.gather(*(step(i, tasks, seconds) for i in range(tasks))))
    return main


def measure(name: str, main: Callable[[], Awaitable[list[int]]]) -> None:
    started = time.perf_counter()
    run = run_virtual(main)
    wall = time.perf_counter() - started
    print(f"{name:<34} virtual {run.elapsed:7.2f} s  wall {wall:6.3f} s  "
          f"ratio {run.elapsed / wall:8.1f}x  ({len(run.result)} tasks)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=1000)
    parser.add_argument("--seconds", type=int, default=60)
    args = parser.parse_args()
    n, s = args.tasks, args.seconds

    measure(f"{n} tasks across {s} s (target >=50x)", crowd(once, n, s))
    measure(f"stress: {n} tasks x {s} sleeps", crowd(ticker, n, s))
    loop = VirtualEventLoop()
    try:
        started = time.perf_counter()
        loop.run_until_complete(crowd(ticker, n, s)())
        wall = time.perf_counter() - started
    finally:
        loop.close()
    print(f"{'stress, bare loop (no recorder)':<34} virtual {loop.time():7.2f} s  wall "
          f"{wall:6.3f} s  ratio {loop.time() / wall:8.1f}x")


if __name__ == "__main__":
    main()
