"""Benchmark: one small asyncio notebook with plain nbclient versus `execute_sandboxed`.

    python benchmarks/sandbox_overhead.py            # 7 interleaved rounds
    python benchmarks/sandbox_overhead.py --rounds 15

Plain is the floor: nbclient in this (already warm) process, a fresh kernel per notebook, no
isolation. Sandboxed adds bwrap, a runner interpreter (its imports), the dedicated uid and
prlimit, and the pid-namespace teardown. Prints medians, the difference and the ratio; rounds
alternate so machine load hits both sides alike.
"""

from __future__ import annotations

import argparse
import statistics
import time

from nbclient import NotebookClient
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from autograder.sandbox import execute_sandboxed

CELLS = [
    "import asyncio\nfrom asyncourse import run_virtual",
    "async def fetch(i):\n    await asyncio.sleep(1)\n    return i",
    "async def main():\n    return await asyncio.gather(*(fetch(i) for i in range(5)))",
    "run = run_virtual(main)\nprint(run.result, run.elapsed)",
    "assert run.result == [0, 1, 2, 3, 4]",
]


def notebook():  # type: ignore[no-untyped-def]
    return new_notebook(cells=[new_markdown_cell("# Part A"), *map(new_code_cell, CELLS)])


def plain() -> float:
    start = time.perf_counter()
    NotebookClient(notebook(), kernel_name="python3", timeout=60).execute()
    return time.perf_counter() - start


def sandboxed() -> float:
    start = time.perf_counter()
    ex = execute_sandboxed(notebook())
    assert ex.outcome == "ok", ex
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=7)
    rounds = parser.parse_args().rounds
    plain(), sandboxed()  # warm both (imports, page cache)
    times: dict[str, list[float]] = {"plain": [], "sandboxed": []}
    for _ in range(rounds):
        times["plain"].append(plain())
        times["sandboxed"].append(sandboxed())
    p, s = (statistics.median(times[k]) for k in ("plain", "sandboxed"))
    for name, values in times.items():
        print(f"{name:10s} median {statistics.median(values):.2f} s  min {min(values):.2f} s")
    print(f"overhead   {s - p:+.2f} s per notebook, ratio {s / p:.2f}")


if __name__ == "__main__":
    main()
