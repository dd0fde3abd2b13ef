"""Plots render with Agg, with a legend of the states actually shown."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

from asyncourse import plot_comparison, plot_timeline, run_virtual


async def fetch(d: float) -> None:
    await asyncio.sleep(d)


async def many(n: int) -> None:
    await asyncio.gather(*(fetch(1 + i % 5) for i in range(n)))


async def mixed() -> None:
    time.sleep(0.5)
    await asyncio.gather(fetch(1), asyncio.to_thread(time.sleep, 1))


def test_timeline_has_a_row_per_task_and_a_legend(tmp_path: Path) -> None:
    fig = plot_timeline(run_virtual(mixed), title="mixed")
    ax = fig.axes[0]
    assert ax.get_xlabel() == "virtual seconds"
    assert [t.get_text() for t in ax.get_yticklabels()] == ["mixed()", "fetch(1)",
                                                            "to_thread(sleep, 1)"]
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == ["awaiting a timer (asyncio.sleep)", "waiting for a thread",
                      "awaiting a task, event or I/O", "blocking the event loop"]
    fig.savefig(tmp_path / "mixed.png")
    assert (tmp_path / "mixed.png").stat().st_size > 10_000


def test_thirty_tasks_stay_readable_and_comparison_shares_the_axis(tmp_path: Path) -> None:
    fig = plot_timeline(run_virtual(many, 30))
    assert fig.get_figheight() > 9 and len(fig.axes[0].get_yticklabels()) == 31

    async def one_by_one() -> None:
        for d in (1, 2, 3):
            await fetch(d)

    async def together() -> None:
        await asyncio.gather(*(fetch(d) for d in (1, 2, 3)))

    fig = plot_comparison(run_virtual(one_by_one), run_virtual(together),
                          titles=["sequential", "concurrent"])
    top, bottom = fig.axes[0], fig.axes[1]
    assert top.get_title(loc="left") == "sequential (6 s)"
    assert bottom.get_title(loc="left") == "concurrent (3 s)"
    assert top.get_xlim() == bottom.get_xlim()
    out = Path("test-artifacts/figures/package")
    out.mkdir(parents=True, exist_ok=True)
    fig.savefig(out / "sequential_vs_concurrent.png")
    plot_timeline(run_virtual(mixed)).savefig(out / "mixed_states.png")
