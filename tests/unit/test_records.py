"""Grading records: typed, append-only, readable across versions, worst notebook first."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from autograder.grading.records import GradeRecord, GradingState, NotebookRecord


def record(student: str, *outcomes: str, key: str = "k1") -> GradeRecord:
    return GradeRecord(student, key, tuple(
        NotebookRecord(f"nb{i}", o, f"why {o}" if o != "graded" else "",  # type: ignore[arg-type]
                       (f"mistake {i}",), "marked for review: x" if i == 0 else "")
        for i, o in enumerate(outcomes)), at=1.5)


def test_a_record_survives_the_log_and_a_restart(tmp_path: Path) -> None:
    state = GradingState(tmp_path / "ps1.jsonl")
    first = record("ana", "graded", "timeout")
    state.add(first)
    state.add(record("ben", "graded"))
    state.add(record("ana", "graded", key="k2"))  # the latest line wins
    again = GradingState(tmp_path / "ps1.jsonl")
    assert again.records["ana"] == record("ana", "graded", key="k2")
    assert again.records["ben"].notebooks[0].mistakes == ("mistake 0",)
    assert again.is_current("ana", "k2") and not again.is_current("ana", "k1")


def test_a_torn_or_foreign_line_is_skipped(tmp_path: Path) -> None:
    log = tmp_path / "ps1.jsonl"
    log.write_text(record("ana", "graded").to_json() + "\n" + '{"student": "ben", "outc'
                   + "\n" + json.dumps({"student": "cal", "outcome": "exploded"}) + "\n"
                   + "\udcff not utf-8 either\n", errors="surrogateescape")
    assert list(GradingState(log).records) == ["ana"]


def test_the_flat_lines_of_older_versions_are_read() -> None:
    old = {"student": "gus", "key": "", "outcome": "error", "reason": "the worker failed",
           "mistakes": [], "seconds": 1.0, "review": "", "worker": "h:1", "at": 3.0}
    rec = GradeRecord.from_json(old)
    assert (rec.outcome, rec.reason, rec.key) == ("machinery-failure", "the worker failed", "")
    assert GradeRecord.from_json({**old, "outcome": "ok"}).outcome == "graded"
    assert GradeRecord.from_json({**old, "outcome": "refused"}).outcome == "not-gradable"


def test_a_learner_shows_the_worst_of_their_notebooks() -> None:
    rec = record("ana", "graded", "kernel-died", "timeout")
    assert rec.outcome == "kernel-died"
    assert rec.reason == "why kernel-died; why timeout"
    assert rec.mistakes == ("mistake 0", "mistake 1", "mistake 2")
    assert rec.review == "marked for review: x"
    assert record("ben").outcome == "graded"  # no notebook recorded: nothing went wrong


def test_an_empty_key_is_never_current(tmp_path: Path) -> None:
    state = GradingState(tmp_path / "ps1.jsonl")
    state.add(record("ana", "machinery-failure", key=""))
    assert not state.is_current("ana", "")


@pytest.mark.parametrize("outcome", ["ok", "exploded"])
def test_unknown_outcomes_are_refused(outcome: str) -> None:
    data = json.loads(record("ana", "graded").to_json())
    data["notebooks"][0]["outcome"] = outcome
    if outcome == "ok":
        assert GradeRecord.from_json(data).outcome == "graded"
    else:
        with pytest.raises(ValueError, match="unknown outcome"):
            GradeRecord.from_json(data)
