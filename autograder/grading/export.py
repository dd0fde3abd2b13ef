"""Export: the class's grades as CSV, and the summary printed at the end of a run.

Scores come from the gradebook (so manual grades entered later show up, and `nbgrader export`
agrees); status, reason and named mistakes come from the grading state.
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
         records: Mapping[str, GradeRecord], *, hold_flagged: bool = False) -> list[Row]:
    """One row per learner with a submission: gradebook scores plus status and reason.

    A submission marked for review says how many of its points came from cells that ran after
    the flagged code; with `hold_flagged` its score stays empty until someone has looked.
    """
    out = []
    for student in sorted(set(scores) | set(records)):
        got = scores.get(student, {})
        rec = records.get(student)
        row: Row = {
            "student_id": student, "assignment": assignment,
            "score": _num(got.get("score", 0.0)), "max_score": _num(got.get("max_score")),
        }
        questions = got.get("questions", {})
        for gid in grade_ids:
            row[gid] = _num(questions.get(gid))
        row["status"] = rule(rec.outcome).status if rec else "graded by nbgrader"
        row["reason"] = rec.reason if rec else ""
        if rec and rec.review and rec.outcome in ("graded", "timeout"):
            row["status"] = "review"  # graded, but tampering was seen: check it by hand
            flagged = rec.flagged_points
            if flagged is not None:
                row["reason"] += (f" ({_num(flagged)} of its {row['score']} points came from "
                                  "cells that ran after the flagged code)")
            if hold_flagged:
                row["status"] = "review (score held back)"
                row["score"] = ""
        if got.get("needs_manual_grade"):
            row["status"] += " (needs manual grading)"
        out.append(row)
    return out


def _num(value: Any) -> Any:
    if value is None:
        return ""
    value = float(value)
    return int(value) if value.is_integer() else round(value, 4)


def write_csv(path: Path, table: list[Row], grade_ids: list[str]) -> None:
    fields = ["student_id", "assignment", "score", "max_score", *grade_ids, "status", "reason"]
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
    """A plain-text report: distribution, pass rate per question, common mistakes, failures."""
    lines = [f"{len(table)} submissions: {graded_now} graded now, {skipped} unchanged "
             f"(kept), in {seconds:.1f} s"
             + (f" ({graded_now / seconds:.1f}/s)" if graded_now and seconds else "")]
    if not table:
        return lines[0]
    maximum = max((r["max_score"] for r in table if r["max_score"] != ""), default=0) or 0
    dist = Counter(r["score"] for r in table)
    lines.append(f"\nScores (of {maximum}):")
    widest = max(dist.values())
    for score in sorted(dist, key=float):
        bar = "#" * max(1, round(30 * dist[score] / widest))
        lines.append(f"  {score!s:>6} | {bar} {dist[score]}")
    lines.append("\nFull marks per question:")
    width = max((len(gid) for gid in max_points), default=0)
    for gid, top in max_points.items():
        full = [r for r in table if r.get(gid, "") != "" and float(r[gid]) >= top]
        rate = 100 * len(full) / len(table)
        lines.append(f"  {gid:<{width}}  {rate:5.1f}%  ({len(full)}/{len(table)})")
    mistakes = Counter(m for rec in records.values() for m in set(rec.mistakes))
    if mistakes:
        lines.append("\nMost common mistakes:")
        for text, count in mistakes.most_common(limit):
            lines.append(f"  {count:4d} x {printable(text, 160)}")
    def outcome(r: Row) -> str | None:
        rec = records.get(r["student_id"])
        return rec.outcome if rec else None

    bad = [r for r in table if outcome(r) not in (None, "graded", "timeout")]
    if bad:
        lines.append(f"\nCould not be graded ({len(bad)}, scored 0):")
        for r in bad:
            lines.append(f"  {r['student_id']}: {printable(r['reason'], 300)}")
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

