"""Plots render with Agg, with a legend of the states actually shown."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

from asyncourse import plot_comparison, plot_timeline, run_virtual
from asyncourse.plot import MAX_CALL_ROWS


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
    assert [t.get_text() for t in top.get_yticklabels()] == [
        "one_by_one()", "↳ fetch(1)", "↳ fetch(2)", "↳ fetch(3)"], "each awaited call a row"
    assert [t.get_text() for t in bottom.get_yticklabels()] == [
        "together()", "fetch(1)", "fetch(2)", "fetch(3)"]
    assert top.get_title(loc="left") == "sequential (6 s)"
    assert bottom.get_title(loc="left") == "concurrent (3 s)"
    assert top.get_xlim() == bottom.get_xlim()
    out = Path("test-artifacts/figures/package")
    out.mkdir(parents=True, exist_ok=True)
    fig.savefig(out / "sequential_vs_concurrent.png")
    plot_timeline(run_virtual(mixed)).savefig(out / "mixed_states.png")


def test_call_rows_show_the_staircase_and_stay_bounded(tmp_path: Path) -> None:
    async def inner(d: float) -> None:
        await fetch(d)

    async def long_chain() -> None:
        for _ in range(20):
            await inner(1)

    run = run_virtual(long_chain)
    ax = plot_timeline(run).axes[0]
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels[:2] == ["long_chain()", "↳ inner(1)"]
    assert len(labels) == 1 + MAX_CALL_ROWS + 1 and labels[-1] == "↳ 12 more awaited calls"
    starts = {}  # row -> where its first bar starts
    for collection in ax.collections:
        for path in collection.get_paths():
            (x0, y0), (_, y1) = path.vertices.min(axis=0), path.vertices.max(axis=0)
            starts.setdefault(round((y0 + y1) / 2), float(x0))
    assert [starts[row] for row in (1, 2, 3)] == [0.0, 1.0, 2.0], "one after the other"
    deep = [t.get_text() for t in plot_timeline(run, calls=2).axes[0].get_yticklabels()]
    assert deep[:3] == ["long_chain()", "↳ inner(1)", "·↳ fetch(1)"]
    assert [t.get_text() for t in plot_timeline(run, calls=0).axes[0].get_yticklabels()] == [
        "long_chain()"]
