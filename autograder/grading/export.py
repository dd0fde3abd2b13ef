"""Export: the class's grades as CSV, and the summary printed at the end of a run.

Scores come from the gradebook (so manual grades entered later show up, and `nbgrader export`
agrees: the score is the raw score minus nbgrader's late penalty, the penalty has a column of its
own); status, reason and named mistakes come from the grading state. A learner whose latest
submission is not gradable has an empty score, never 0.
"""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from autograder.grading.outcome import rule
from autograder.grading.records import GradeRecord
from autograder.text import neutralise, printable

Row = dict[str, Any]  # one CSV row: student_id, assignment, score, max_score, grade ids, ...


def rows(assignment: str, grade_ids: list[str], scores: Mapping[str, Mapping[str, Any]],
         records: Mapping[str, GradeRecord], *, hold_flagged: bool = False,
         max_score: float | None = None) -> list[Row]:
    """One row per learner with a submission: gradebook scores plus status and reason.

    The score is the one ``nbgrader export`` writes (late penalty subtracted, never below 0),
    with the penalty in its own column. A learner whose latest submission is not gradable has
    no score at all, whatever the gradebook kept from an earlier one: every cell of scores is
    empty, never 0. A submission marked for review says how many of its points came from cells
    that ran after the flagged code; with `hold_flagged` its score stays empty until someone has
    looked. `max_score` is the assignment's, for learners the gradebook has no submission of.
    """
    out = []
    for student in sorted(set(scores) | set(records)):
        got = scores.get(student, {})
        rec = records.get(student)
        row: Row = {
            "student_id": student, "assignment": assignment,
            "score": _num(got.get("score", 0.0)),
            "max_score": _num(got.get("max_score", max_score)),
            "late_penalty": _num(got.get("late_penalty", 0.0)),
        }
        questions = got.get("questions", {})
        for gid in grade_ids:
            row[gid] = _num(questions.get(gid))
        row["status"] = rule(rec.outcome).status if rec else "graded by nbgrader"
        row["reason"] = rec.reason if rec else ""
        if rec and rec.outcome == "not-gradable":  # no score: the learner is to resubmit
            row.update({"score": "", "late_penalty": ""}, **dict.fromkeys(grade_ids, ""))
        if rec and rec.review and rec.outcome in ("graded", "timeout"):
            row["status"] = "review"  # graded, but tampering was seen: check it by hand
            flagged = rec.flagged_points
            if flagged is not None:
                row["reason"] += (f" ({_num(flagged)} of its {row['score']} points came from "
                                  "cells that ran after the flagged code)")
            if hold_flagged:
                row["status"] = "review (score held back)"
                row["score"] = ""
        if got.get("needs_manual_grade") and row["score"] != "":
            row["status"] += " (needs manual grading)"
        out.append(row)
    return out


def _num(value: Any) -> Any:
    if value is None:
        return ""
    value = float(value)
    return int(value) if value.is_integer() else round(value, 4)


def write_csv(path: Path, table: list[Row], grade_ids: list[str]) -> None:
    fields = ["student_id", "assignment", "score", "max_score", "late_penalty", *grade_ids,
              "status", "reason"]
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    with open(tmp, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=fields)
        writer.writeheader()
        for row in table:  # learner text: no terminal escapes, no spreadsheet formulas
            writer.writerow({k: neutralise(printable(v, None)) if isinstance(v, str) else v
                             for k, v in row.items()})
    tmp.replace(path)


def summary(table: list[Row], max_points: Mapping[str, float],
            records: Mapping[str, GradeRecord], *, graded_now: int, skipped: int,
            seconds: float, limit: int = 5) -> str:
    """A plain-text report: distribution, pass rate per question, common mistakes, failures.

    Learners without a score (not gradable, held for review) are counted apart: they are in no
    distribution or rate."""
    lines = [f"{len(table)} submissions: {graded_now} graded now, {skipped} unchanged "
             f"(kept), in {seconds:.1f} s"
             + (f" ({graded_now / seconds:.1f}/s)" if graded_now and seconds else "")]
    if not table:
        return lines[0]

    def outcome(r: Row) -> str | None:
        rec = records.get(r["student_id"])
        return rec.outcome if rec else None

    scored = [r for r in table if r["score"] != ""]
    maximum = max((r["max_score"] for r in table if r["max_score"] != ""), default=0) or 0
    dist = Counter(r["score"] for r in scored)
    lines.append(f"\nScores (of {maximum}, late penalties subtracted; {len(scored)} with a "
                 "score):")
    widest = max(dist.values(), default=1)
    for score in sorted(dist, key=float):
        bar = "#" * max(1, round(30 * dist[score] / widest))
        lines.append(f"  {score!s:>6} | {bar} {dist[score]}")
    graded = [r for r in table if outcome(r) != "not-gradable"]
    lines.append("\nFull marks per question:")
    width = max((len(gid) for gid in max_points), default=0)
    for gid, top in max_points.items():
        full = [r for r in graded if r.get(gid, "") != "" and float(r[gid]) >= top]
        rate = 100 * len(full) / len(graded) if graded else 0.0
        lines.append(f"  {gid:<{width}}  {rate:5.1f}%  ({len(full)}/{len(graded)})")
    mistakes = Counter(m for rec in records.values() for m in set(rec.mistakes))
    if mistakes:
        lines.append("\nMost common mistakes:")
        for text, count in mistakes.most_common(limit):
            lines.append(f"  {count:4d} x {printable(text, 160)}")
    late = [r for r in scored if r.get("late_penalty") not in ("", 0)]
    if late:
        lines.append(f"\nLate ({len(late)}, nbgrader's late penalty subtracted):")
        lines.extend(f"  {r['student_id']}: -{r['late_penalty']}" for r in late)
    stopped = [r for r in table if outcome(r) in ("kernel-died", "memory", "output-limit")]
    if stopped:
        lines.append(f"\nStopped running ({len(stopped)}, scored 0 from there on):")
        lines.extend(f"  {r['student_id']}: {printable(r['reason'], 300)}" for r in stopped)
    refused = [r for r in table if outcome(r) == "not-gradable"]
    if refused:
        lines.append(f"\nNot gradable ({len(refused)}, no score; their feedback says how to "
                     "resubmit):")
        lines.extend(f"  {r['student_id']}: {printable(r['reason'], 300)}" for r in refused)
    review = [r for r in table if (rec := records.get(r["student_id"])) and rec.review]
    if review:
        lines.append(f"\nMarked for review ({len(review)}; check by hand):")
        for r in review:
            rec = records[r["student_id"]]
            held = ("" if rec.flagged_points is None else
                    f" [{_num(rec.flagged_points)} of its points came from cells after it]")
            lines.append(f"  {r['student_id']}: {printable(rec.review, 160)}{held}")
    timed = [r for r in table if outcome(r) == "timeout"]
    if timed:
        lines.append(f"\nA cell timed out ({len(timed)}):")
        lines.extend(f"  {r['student_id']}: {printable(r['reason'], 300)}" for r in timed)
    return "\n".join(lines)
