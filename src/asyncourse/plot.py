"""Timelines as matplotlib Gantt charts: one row per task, one colour per state.

Figures are made with pyplot and closed at once, so a notebook shows each figure exactly once
(when a cell returns it) and the Agg backend works the same in tests.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from .record import KINDS, Kind, Recording

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["COLOURS", "plot_comparison", "plot_timeline"]

COLOURS: dict[Kind, str] = {
    "pending": "#d9d9d9",
    "running": "#2ca02c",
    "timer": "#1f77b4",
    "thread": "#9467bd",
    "waiting": "#ffbb78",
    "blocked": "#d62728",
}
LEGEND: dict[Kind, str] = {
    "pending": "created or ready, not running yet",
    "running": "running",
    "timer": "awaiting a timer (asyncio.sleep)",
    "thread": "waiting for a thread",
    "waiting": "awaiting a task, event or I/O",
    "blocked": "blocking the event loop",
}


def _recording(item: Any) -> tuple[Recording, bool]:
    if isinstance(item, Recording):
        return item, True
    recording = getattr(item, "recording", None)
    if isinstance(recording, Recording):
        return recording, bool(getattr(item, "virtual", True))
    raise TypeError(f"expected a Run or a Recording, got {type(item).__name__}")


def _draw(ax: Axes, recording: Recording, virtual: bool, title: str | None) -> None:
    tasks = recording.tasks
    used: set[Kind] = set()
    for row, task in enumerate(tasks):
        for kind in KINDS:
            spans = [(i.start, i.duration) for i in task.intervals if i.kind == kind]
            if spans:
                ax.broken_barh(spans, (row - 0.35, 0.7), facecolors=COLOURS[kind],
                               edgecolor="white", linewidth=0.6)
                used.add(kind)
        if task.ended is not None:
            marker = {"done": "|", "failed": "x", "cancelled": "x"}.get(task.state, "|")
            ax.plot([task.ended], [row], marker=marker, color="black", markersize=9)
    ax.set_yticks(range(len(tasks)), [_shorten(t.label) for t in tasks],
                  fontsize=9 if len(tasks) <= 12 else 7)
    ax.set_ylim(len(tasks) - 0.5, -0.5)
    ax.set_xlim(0, max(recording.elapsed, 1e-3) * 1.02)
    ax.set_xlabel("virtual seconds" if virtual else "seconds")
    ax.grid(axis="x", alpha=0.3)
    heading = title or ""
    took = f"{recording.elapsed:g}" if virtual else f"{recording.elapsed:.2f}"
    ax.set_title(f"{heading} ({took} s)".strip(), loc="left", fontsize=11)
    if used:
        ax.legend(handles=[_patch(k) for k in KINDS if k in used], loc="upper left",
                  bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False)


def _shorten(label: str, limit: int = 32) -> str:
    return label if len(label) <= limit else label[: limit - 2] + "…)"


def _patch(kind: Kind) -> Any:
    from matplotlib.patches import Patch

    return Patch(facecolor=COLOURS[kind], label=LEGEND[kind])


def plot_timeline(run: Any, *, title: str | None = None, ax: Axes | None = None) -> Figure:
    """Draw a run's (or a recording's) tasks over time as a Gantt chart.

    >>> import asyncio
    >>> from asyncourse import run_virtual
    >>> fig = plot_timeline(run_virtual(asyncio.sleep, 1), title="one sleep")
    >>> fig.axes[0].get_xlabel()
    'virtual seconds'
    """
    import matplotlib.pyplot as plt

    recording, virtual = _recording(run)
    if ax is None:
        height = 1.2 + 0.32 * max(len(recording.tasks), 1)
        fig, ax = plt.subplots(figsize=(9, height), layout="constrained")
        plt.close(fig)
    _draw(ax, recording, virtual, title)
    figure = ax.get_figure()
    assert figure is not None
    return figure  # type: ignore[return-value]


def plot_comparison(*runs: Any, titles: Sequence[str] | None = None) -> Figure:
    """Draw several runs one above the other on a shared time axis (e.g. sequential vs concurrent).

    >>> import asyncio
    >>> from asyncourse import run_virtual
    >>> fig = plot_comparison(run_virtual(asyncio.sleep, 1), run_virtual(asyncio.sleep, 2),
    ...                       titles=["short", "long"])
    >>> len(fig.axes)
    2
    """
    import matplotlib.pyplot as plt

    if not runs:
        raise ValueError("plot_comparison needs at least one run")
    names = list(titles) if titles is not None else [f"run {i + 1}" for i in range(len(runs))]
    if len(names) != len(runs):
        raise ValueError(f"got {len(runs)} runs but {len(names)} titles")
    recordings = [_recording(r) for r in runs]
    sizes = [max(len(rec.tasks), 1) for rec, _ in recordings]
    fig, axes = plt.subplots(len(runs), 1, sharex=True, squeeze=False, layout="constrained",
                             figsize=(9, 0.9 * len(runs) + 0.32 * sum(sizes)),
                             gridspec_kw={"height_ratios": sizes})
    plt.close(fig)
    longest = max(rec.elapsed for rec, _ in recordings)
    for ax, (rec, virtual), name in zip(axes[:, 0], recordings, names, strict=True):
        _draw(ax, rec, virtual, name)
        ax.set_xlim(0, max(longest, 1e-3) * 1.02)
    for ax in axes[:-1, 0]:
        ax.set_xlabel("")
    return fig
