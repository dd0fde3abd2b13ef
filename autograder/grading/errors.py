"""The class command's errors: each one a sentence for the instructor and an exit code."""

from __future__ import annotations

__all__ = ["CourseError", "GradingError", "MachineryFailure", "SandboxUnavailable"]


class GradingError(Exception):
    """The class could not be graded as asked; the message says what to do."""

    exit_code = 2


class CourseError(GradingError):
    """The course cannot be graded as asked (no nbgrader_config.py, unknown assignment, ...)."""


class SandboxUnavailable(GradingError):
    """The sandbox cannot run here, and learner code is never run bare without --no-sandbox."""


class MachineryFailure(GradingError):
    """The grading machinery (workers, cluster, sandbox, kernel environment) cannot grade now;
    nothing was recorded as a grade."""

    exit_code = 1
