"""Grading records: one typed record per learner, kept in an append-only resume log.

The gradebook holds the scores; this log holds what nbgrader has no place for: the key of the
graded bytes (submission hash + assignment version, so a re-run skips what is unchanged), each
notebook's outcome and reason, the named mistakes for the summary and the review flags. One JSON
line per result, appended once its grades are committed: a crash or Ctrl-C loses at most the line
being written (a torn last line is ignored). The export and the summary read these records.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, cast

from autograder.grading.outcome import OUTCOMES, Outcome

__all__ = ["GradeRecord", "GradingState", "NotebookRecord"]

# Severity, worst first: a learner's record shows the worst of its notebooks.
_ORDER: tuple[Outcome, ...] = ("machinery-failure", "not-gradable", "kernel-died", "memory",
                               "output-limit", "timeout", "graded")
_OLD_NAMES = {"ok": "graded", "refused": "not-gradable", "error": "machinery-failure"}


@dataclass(frozen=True)
class NotebookRecord:
    """How one notebook of a submission was graded."""

    notebook: str
    outcome: Outcome
    reason: str = ""
    mistakes: tuple[str, ...] = ()
    review: str = ""  # "marked for review: ..." when the scan or the run flagged it
    seconds: float = 0.0
    worker: str = ""
    flagged_points: float | None = None  # points earned in cells after the flagged code


@dataclass(frozen=True)
class GradeRecord:
    """A learner's latest grading of one assignment (every notebook of it)."""

    student: str
    key: str  # resume key of what was graded; "" = grade again on the next run
    notebooks: tuple[NotebookRecord, ...] = field(default_factory=tuple)
    at: float = 0.0

    @property
    def outcome(self) -> Outcome:
        found = {nb.outcome for nb in self.notebooks}
        return next((o for o in _ORDER if o in found), "graded")

    @property
    def reason(self) -> str:
        return "; ".join(dict.fromkeys(nb.reason for nb in self.notebooks if nb.reason))

    @property
    def mistakes(self) -> tuple[str, ...]:
        return tuple(m for nb in self.notebooks for m in nb.mistakes)

    @property
    def review(self) -> str:
        return "; ".join(nb.review for nb in self.notebooks if nb.review)

    @property
    def flagged_points(self) -> float | None:
        found = [nb.flagged_points for nb in self.notebooks if nb.flagged_points is not None]
        return sum(found) if found else None

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> GradeRecord:
        """A record from its JSON (also the flat, one-notebook lines older versions wrote)."""
        if "notebooks" not in data:  # the old layout: one notebook, fields at the top
            data = {"student": data["student"], "key": data.get("key", ""),
                    "at": data.get("at", 0.0),
                    "notebooks": [{"notebook": "", **{k: data[k] for k in (
                        "outcome", "reason", "mistakes", "review", "seconds", "worker")
                        if k in data}}]}
        notebooks = []
        for nb in data["notebooks"]:
            outcome = _OLD_NAMES.get(nb["outcome"], nb["outcome"])
            if outcome not in OUTCOMES:
                raise ValueError(f"unknown outcome {outcome!r}")
            notebooks.append(NotebookRecord(
                notebook=str(nb.get("notebook", "")), outcome=cast(Outcome, outcome),
                reason=str(nb.get("reason", "")), mistakes=tuple(nb.get("mistakes", ())),
                review=str(nb.get("review", "")), seconds=float(nb.get("seconds", 0.0)),
                worker=str(nb.get("worker", "")),
                flagged_points=(None if nb.get("flagged_points") is None
                                else float(nb["flagged_points"]))))
        return cls(str(data["student"]), str(data.get("key", "")), tuple(notebooks),
                   float(data.get("at", 0.0)))

    def with_key(self, key: str) -> GradeRecord:
        return replace(self, key=key)


class GradingState:
    """{student: latest GradeRecord} for one assignment, backed by `<course>/.grading/<a>.jsonl`."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.records: dict[str, GradeRecord] = {}
        if path.exists():
            for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
                try:
                    record = GradeRecord.from_json(json.loads(line))
                except (ValueError, KeyError, TypeError, AttributeError):
                    continue  # a torn or foreign line
                self.records[record.student] = record

    def is_current(self, student: str, key: str) -> bool:
        record = self.records.get(student)
        return record is not None and bool(record.key) and record.key == key

    def add(self, record: GradeRecord) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path, "a", encoding="utf-8") as fh:
            fh.write(record.to_json() + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        self.records[record.student] = record

    def students(self) -> Iterable[str]:
        return self.records.keys()

    def __repr__(self) -> str:
        return f"GradingState({self.path}, {len(self.records)} submissions)"
