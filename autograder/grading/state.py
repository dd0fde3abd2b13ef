"""Resume state: one JSON line per graded submission, appended once its grades are committed.

The gradebook holds the scores; this log holds what nbgrader has no place for: the key of the
graded bytes (submission hash + assignment version, so a re-run skips what is unchanged), the
outcome and its reason, and the named mistakes for the summary. Append-only, one line per result:
a crash or Ctrl-C loses at most the line being written (a torn last line is ignored).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any


class GradingState:
    """{student: latest record} for one assignment, backed by `<course>/.grading/<a>.jsonl`."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.records: dict[str, dict[str, Any]] = {}
        if path.exists():
            for line in path.read_text().splitlines():
                try:
                    rec = json.loads(line)
                except json.JSONDecodeError:
                    continue
                if isinstance(rec, dict) and "student" in rec:
                    self.records[rec["student"]] = rec

    def is_current(self, student: str, key: str) -> bool:
        rec = self.records.get(student)
        return rec is not None and rec.get("key") == key

    def add(self, record: dict[str, Any]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path, "a") as fh:
            fh.write(json.dumps(record, sort_keys=True) + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        self.records[record["student"]] = record

    def __repr__(self) -> str:
        return f"GradingState({self.path}, {len(self.records)} submissions)"
