"""The outcome table: what each way a submission's grading can end writes, and where.

One place for the rule, read by the state, the exports, the summary and the command's exit code,
and printed into the README (`markdown_table`, checked by a test). "Whose" says who caused it: an
outcome the learner's code caused is a grade, with its reason; one the grading machinery caused
(a worker, the sandbox, the environment) is never a grade: nothing is written, an earlier grade
stays, the submission stays to do, and the command exits non-zero. A submission the grader cannot
take as it is (a wrong file name, an unreadable notebook, another assignment's notebook, a refused
upload) is the learner's to fix, but it is not a grade either: no score is written (an earlier one
stays), every export leaves the score empty, and the learner's feedback says how to resubmit.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

__all__ = ["OUTCOMES", "Outcome", "Rule", "markdown_table", "outcome_of_run", "rule"]

Outcome = Literal["graded", "timeout", "kernel-died", "memory", "output-limit", "not-gradable",
                  "machinery-failure"]
OUTCOMES: tuple[Outcome, ...] = get_args(Outcome)


@dataclass(frozen=True)
class Rule:
    """What an outcome writes into the gradebook, the CSV and an LMS export, and what it keeps."""

    status: str  # the CSV's status column
    whose: Literal["learner", "machinery"]
    gradebook: str
    csv: str
    lms: str
    keeps_earlier: bool  # an earlier grade of this learner survives
    exit_code: int  # the command's exit code when some submission ends so (the highest wins)


_SCORE = "the score, late penalty subtracted"
_ZERO = "0 on every question of that notebook"
_RULES: dict[Outcome, Rule] = {
    "graded": Rule("graded", "learner", "each test cell's score", _SCORE, _SCORE, False, 0),
    "timeout": Rule("graded (cell timed out)", "learner",
                    "each test cell's score; the timed-out cell and any cell not run score 0",
                    _SCORE, _SCORE, False, 0),
    "kernel-died": Rule("kernel died", "learner", _ZERO, _SCORE, _SCORE, False, 0),
    "memory": Rule("out of memory", "learner", _ZERO, _SCORE, _SCORE, False, 0),
    "output-limit": Rule("too much output", "learner", _ZERO, _SCORE, _SCORE, False, 0),
    "not-gradable": Rule("not gradable", "learner",
                         "nothing (the learner is recorded; their feedback says how to resubmit)",
                         "empty (not 0)", "empty (not 0)", True, 0),
    "machinery-failure": Rule("not run", "machinery",
                              "nothing (run once more; then left to do for the next run)",
                              "unchanged (NOT GRADED in the summary)", "unchanged", True, 1),
}
REVIEW = Rule("review", "learner", "each test cell's score",
              f"{_SCORE} (check it by hand)", _SCORE, False, 0)


def rule(outcome: Outcome) -> Rule:
    return _RULES[outcome]


def outcome_of_run(run_outcome: str) -> Outcome:
    """The grading outcome of an `Execution.outcome`."""
    mapped = {"completed": "graded", "failed": "machinery-failure"}.get(run_outcome, run_outcome)
    if mapped not in OUTCOMES:
        raise ValueError(f"no grading outcome for a run that ended {run_outcome!r}")
    return mapped  # checked against OUTCOMES above


def markdown_table() -> str:
    """The table for the README (a test keeps the README's copy equal to this)."""
    head = ("outcome", "CSV status", "gradebook", "CSV score", "LMS export",
            "earlier grade", "exit code")
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    rows: list[tuple[str, Rule]] = [(o, _RULES[o]) for o in OUTCOMES]
    rows.insert(1, ("graded, marked for review", REVIEW))
    for name, r in rows:
        cells = (name, r.status, r.gradebook, r.csv, r.lms,
                 "kept" if r.keeps_earlier else "replaced", str(r.exit_code))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)
