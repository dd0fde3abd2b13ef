"""Helpers for the course *Async Python, autograded*.

Run asyncio code in virtual time, record what every task did, draw it, name the classic mistakes,
and grade it. See ``API.md`` and the README for examples.
"""

from .clock import VirtualEventLoop
from .detect import Finding
from .errors import BusyLoopError, DeadlockError, RunError, VirtualTimeLimit
from .grading import (
    GradingFailure,
    expect_elapsed,
    expect_equal,
    expect_max_concurrent,
    expect_min_concurrent,
    expect_no_findings,
    grade,
)
from .plot import plot_comparison, plot_timeline
from .properties import Job, calls, expect_calls, expect_slots, slot_problem
from .record import AwaitedCall, Interval, Recording, TaskRecord
from .run import Run, run_real, run_virtual
from .selfcheck import expect_answer, self_check

__all__ = [
    "AwaitedCall",
    "BusyLoopError",
    "DeadlockError",
    "Finding",
    "GradingFailure",
    "Interval",
    "Job",
    "Recording",
    "Run",
    "RunError",
    "TaskRecord",
    "VirtualEventLoop",
    "VirtualTimeLimit",
    "calls",
    "expect_answer",
    "expect_calls",
    "expect_elapsed",
    "expect_equal",
    "expect_max_concurrent",
    "expect_min_concurrent",
    "expect_no_findings",
    "expect_slots",
    "grade",
    "plot_comparison",
    "plot_timeline",
    "run_real",
    "run_virtual",
    "self_check",
    "slot_problem",
]
