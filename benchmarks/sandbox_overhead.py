"""Benchmark: one small asyncio notebook with plain nbclient versus the sandbox backend.

    python benchmarks/sandbox_overhead.py            # 7 interleaved rounds
    python benchmarks/sandbox_overhead.py --rounds 15

Plain is the floor: nbclient in this (already warm) process, a fresh kernel per notebook, no
isolation. Sandboxed adds bwrap, a runner interpreter (its imports), the dedicated uid and
prlimit, and the pid-namespace teardown. Prestarted is `SandboxBackend(prestart=True)` when the
spare had time to boot (the grader's own work between notebooks; here an untimed
pause of --gap seconds): the kernel start leaves the critical path. Prints medians, the
differences and ratios; rounds alternate so machine load hits every side alike.
"""

from __future__ import annotations

import argparse
import statistics
import time

from nbclient import NotebookClient
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from autograder.execution import Limits, SandboxBackend

ONE_SHOT = SandboxBackend(prestart=False)
PRESTARTING = SandboxBackend(prestart=True)

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


def sandboxed(prestart: bool = False) -> float:
    start = time.perf_counter()
    ex = (PRESTARTING if prestart else ONE_SHOT).run(notebook(), {}, {}, Limits())
    assert ex.outcome == "completed", ex
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--gap", type=float, default=2.0)
    args = parser.parse_args()
    plain(), sandboxed(), sandboxed(prestart=True)  # warm all (imports, page cache)
    PRESTARTING.close()
    times: dict[str, list[float]] = {"plain": [], "sandboxed": [], "prestarted": []}
    for _ in range(args.rounds):
        times["plain"].append(plain())
        times["sandboxed"].append(sandboxed())
        sandboxed(prestart=True)  # leaves a spare
        time.sleep(args.gap)  # the grader's own work between notebooks
        times["prestarted"].append(sandboxed(prestart=True))  # takes the spare, leaves one
        PRESTARTING.close()
    p = statistics.median(times["plain"])
    for name, values in times.items():
        m = statistics.median(values)
        print(
            f"{name:10s} median {m:.2f} s  min {min(values):.2f} s"
            f"  vs plain {m - p:+.2f} s, ratio {m / p:.2f}"
        )


if __name__ == "__main__":
    main()
