"""Timelines as matplotlib Gantt charts: one row per task, one colour per state.

Under each task, a thinner row for each coroutine it awaited (its ``AwaitedCall``s, ``↳`` in the
label): awaited coroutines run inside their task, so without these rows a sequential run is one
solid bar and "one after another" is not visible. Figures are made with pyplot and closed at
once, so a notebook shows each figure exactly once (when a cell returns it) and the Agg backend
works the same in tests.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

from .record import KINDS, AwaitedCall, Interval, Kind, Recording, TaskRecord

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["COLOURS", "plot_comparison", "plot_timeline"]

#: At most this many rows of awaited calls under one task; the rest share one last row.
MAX_CALL_ROWS = 8

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


class _Row(NamedTuple):
    label: str
    intervals: list[Interval]
    task: TaskRecord | None  # None for a row of awaited calls


def _rows(recording: Recording, calls: int) -> list[_Row]:
    """Each task's row, followed by the rows of its awaited calls down to depth ``calls``."""
    rows = []
    for task in recording.tasks:
        rows.append(_Row(task.label, task.intervals, task))
        shown = [c for c in task.calls if c.depth <= calls and c.end != c.start]
        for call in shown[:MAX_CALL_ROWS]:
            rows.append(_Row(_call_label(call), task.call_intervals(call), None))
        rest = shown[MAX_CALL_ROWS:]
        if rest:
            spans = [i for c in rest for i in task.call_intervals(c)]
            rows.append(_Row(f"↳ {len(rest)} more awaited calls", spans, None))
    return rows


def _call_label(call: AwaitedCall) -> str:
    return "·" * (call.depth - 1) + "↳ " + _shorten(call.label, 30)


def _draw(ax: Axes, recording: Recording, virtual: bool, title: str | None, calls: int) -> None:
    rows = _rows(recording, calls)
    used: set[Kind] = set()
    for index, row in enumerate(rows):
        height = 0.7 if row.task is not None else 0.45
        for kind in KINDS:
            spans = [(i.start, i.duration) for i in row.intervals if i.kind == kind]
            if spans:
                ax.broken_barh(spans, (index - height / 2, height), facecolors=COLOURS[kind],
                               edgecolor="white", linewidth=0.6)
                used.add(kind)
        task = row.task
        if task is not None and task.ended is not None:
            marker = {"done": "|", "failed": "x", "cancelled": "x"}.get(task.state, "|")
            ax.plot([task.ended], [index], marker=marker, color="black", markersize=9)
    labels = [_shorten(r.label) if r.task is not None else r.label for r in rows]
    ax.set_yticks(range(len(rows)), labels, fontsize=9 if len(rows) <= 12 else 7)
    for tick, row in zip(ax.get_yticklabels(), rows, strict=True):
        if row.task is None:
            tick.set_color("dimgray")
    ax.set_ylim(len(rows) - 0.5, -0.5)
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


def plot_timeline(run: Any, *, title: str | None = None, ax: Axes | None = None,
                  calls: int = 1) -> Figure:
    """Draw a run's (or a recording's) tasks over time as a Gantt chart.

    Under each task, one row per coroutine it awaited, down to ``calls`` levels deep (1: the
    calls the task's own coroutine awaited; 0: no call rows).

    >>> import asyncio
    >>> from asyncourse import run_virtual
    >>> fig = plot_timeline(run_virtual(asyncio.sleep, 1), title="one sleep")
    >>> fig.axes[0].get_xlabel()
    'virtual seconds'
    """
    import matplotlib.pyplot as plt

    recording, virtual = _recording(run)
    if ax is None:
        height = 1.2 + 0.32 * max(len(_rows(recording, calls)), 1)
        fig, ax = plt.subplots(figsize=(9, height), layout="constrained")
        plt.close(fig)
    _draw(ax, recording, virtual, title, calls)
    figure = ax.get_figure()
    assert figure is not None
    return figure  # type: ignore[return-value]


def plot_comparison(*runs: Any, titles: Sequence[str] | None = None, calls: int = 1) -> Figure:
    """Draw several runs one above the other on a shared time axis (e.g. sequential vs concurrent).

    ``calls`` as in ``plot_timeline``.

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
    sizes = [max(len(_rows(rec, calls)), 1) for rec, _ in recordings]
    fig, axes = plt.subplots(len(runs), 1, sharex=True, squeeze=False, layout="constrained",
                             figsize=(9, 0.9 * len(runs) + 0.32 * sum(sizes)),
                             gridspec_kw={"height_ratios": sizes})
    plt.close(fig)
    longest = max(rec.elapsed for rec, _ in recordings)
    for ax, (rec, virtual), name in zip(axes[:, 0], recordings, names, strict=True):
        _draw(ax, rec, virtual, name, calls)
        ax.set_xlim(0, max(longest, 1e-3) * 1.02)
    for ax in axes[:-1, 0]:
        ax.set_xlabel("")
    return fig
