"""Errors a run can end with, each carrying a sentence a learner can act on.

They subclass ``RuntimeError`` (not ``BaseException``) so that ``grade`` can turn them into
feedback; learner code that catches ``Exception`` around a single await never sees them, because
they are raised by the loop itself, outside every task.
"""

from __future__ import annotations

__all__ = ["BusyLoopError", "DeadlockError", "RunError", "VirtualTimeLimit"]


class RunError(RuntimeError):
    """A virtual-time run could not finish."""


class DeadlockError(RunError):
    """Every task is waiting and nothing (no timer, no thread, no I/O) can ever wake one up."""


class VirtualTimeLimit(RunError):
    """The program was still running when the virtual clock reached the run's limit."""


class BusyLoopError(RunError):
    """The loop went round too many times without the clock moving on (a busy loop)."""
