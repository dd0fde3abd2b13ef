"""``python -m autograder fetch|export|upload``: the LMS round trip's command lines.

``fetch <assignment>`` downloads the submissions of a Canvas assignment into a folder, named as
Canvas's own download names them, with each learner's submission time (a dry run unless
``--apply``), for ``grade --submissions``; ``export <assignment> --format canvas|moodle|csv``
writes the file the LMS's gradebook import takes as it is; ``upload <assignment>`` sends each
learner's grade and feedback to Canvas (a dry run unless ``--apply``). Export and upload read
the class's final scores as ``nbgrader export`` computes them (`autograder.lms.grades`) with each
learner's grading outcome (``.grading/<assignment>.jsonl``). Exit codes: 0 done; 1 done in part
(learners left out of the file, files not fetched, or an upload or fetch that stopped: run it
again); 2 nothing done (the command cannot run as asked).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path

from autograder.grading.errors import GradingError
from autograder.grading.records import GradeRecord, GradingState
from autograder.lms.grades import NO_SCORE, ClassScores, final_rows, read_gradebook
from autograder.lms.naming import Roster, RosterError
from autograder.text import printable

__all__ = ["export_main", "export_parser", "fetch_main", "fetch_parser", "upload_main",
           "upload_parser"]

TOKEN_VARIABLE = "CANVAS_API_TOKEN"


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("assignment", help="assignment id, e.g. ps1")
    p.add_argument("--course", type=Path, default=Path.cwd(),
                   help="course root holding nbgrader_config.py (default: current folder)")
    p.add_argument("--roster", type=Path, default=None,
                   help="the LMS's roster: Canvas's gradebook export or Moodle's grading "
                        "worksheet (CSV); it names learners and maps their ids; without it, "
                        "ids like canvas-111 say the LMS id")


def export_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m autograder export",
        description="Write the class's final scores (late penalties applied, as nbgrader "
                    "export does; empty for a learner who could not be graded) in the file an "
                    "LMS's gradebook import takes.")
    _common(p)
    p.add_argument("--format", choices=("canvas", "moodle", "csv"), required=True,
                   help="canvas: gradebook import CSV; moodle: assignment grading worksheet; "
                        "csv: the plain CSV of the grade command")
    p.add_argument("--canvas-assignment-id", type=int, default=None,
                   help="the assignment's id in Canvas (the number in its address): Canvas's "
                        "import matches the column by it")
    p.add_argument("--out", type=Path, default=None,
                   help="output file (default: <format>-<assignment>.csv in the course; "
                        "grades-<assignment>.csv for csv)")
    return p


def upload_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m autograder upload",
        description="Send each learner's grade and feedback (a comment with the HTML feedback "
                    f"attached) to Canvas. A dry run unless --apply. The API token is read from "
                    f"${TOKEN_VARIABLE}.")
    _common(p)
    _canvas(p)
    p.add_argument("--state", type=Path, default=None,
                   help="what was sent, for reruns (default: .grading/<assignment>.canvas.json)")
    return p


def _canvas(p: argparse.ArgumentParser) -> None:
    p.add_argument("--canvas-url", required=True, help="e.g. https://school.instructure.com")
    p.add_argument("--canvas-course-id", type=int, required=True)
    p.add_argument("--canvas-assignment-id", type=int, required=True)
    p.add_argument("--apply", action="store_true", help="do it (default: show what would be done)")


def fetch_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m autograder fetch",
        description="Download a Canvas assignment's submissions into a folder, named as "
                    "Canvas's Download Submissions names them, with each learner's submission "
                    "time (nbgrader's late handling needs it; file names only say LATE); then "
                    "grade them with `grade <assignment> --submissions FOLDER`. A dry run unless "
                    f"--apply. The API token is read from ${TOKEN_VARIABLE}.")
    p.add_argument("assignment", help="assignment id, e.g. ps1")
    p.add_argument("--course", type=Path, default=Path.cwd(),
                   help="course root (default: current folder)")
    _canvas(p)
    p.add_argument("--into", type=Path, default=None,
                   help="the download folder (default: downloaded/<assignment>/ in the course); "
                        "a fetch replaces what an earlier fetch put there")
    return p


def _token() -> str:
    token = os.environ.get(TOKEN_VARIABLE, "")
    if not token:
        print(f"error: set ${TOKEN_VARIABLE} to a Canvas API token (Canvas: Account > Settings "
              "> New access token); it is never taken from the command line", file=sys.stderr)
    return token


def fetch_main(argv: list[str] | None = None) -> int:
    import shutil

    import requests
    from canvasapi.exceptions import CanvasException  # type: ignore[import-untyped]

    from autograder.lms.canvas import CanvasTarget, fetch_submissions
    from autograder.lms.naming import LearnerKey
    from autograder.lms.times import TIMES_FILE, write_times

    args = fetch_parser().parse_args(argv)
    token = _token()
    if not token:
        return 2
    into = (args.into or args.course / "downloaded" / args.assignment).resolve()
    if into.exists() and any(into.iterdir()) and not (into / TIMES_FILE).exists():
        print(f"error: {into} holds files that no fetch put there: give an empty or new folder "
              "with --into", file=sys.stderr)
        return 2
    staging = into.with_name(f".{into.name}.incoming")
    try:
        target = CanvasTarget(args.canvas_url, token, args.canvas_course_id,
                              args.canvas_assignment_id)
        shutil.rmtree(staging, ignore_errors=True)
        fetched = fetch_submissions(target, staging, download=args.apply)
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except (CanvasException, requests.RequestException, OSError) as err:
        shutil.rmtree(staging, ignore_errors=True)
        print(f"error: the submissions could not be fetched from Canvas ({err}); nothing was "
              f"changed in {into}: run the same command again", file=sys.stderr)
        return 1
    verb = "Fetched" if args.apply else "Would fetch (dry run: nothing written; --apply fetches)"
    files = sum(len(f.files) for f in fetched)
    print(f"{verb}: {files} files of {len(fetched)} learners into {into}")
    for f in fetched:
        when = f.submitted_at.isoformat() if f.submitted_at else "no time"
        late = ", LATE" if f.late else ""
        print(f"  Canvas user {f.user_id}: submitted {when}{late}: {', '.join(f.files) or '-'}")
        for problem in f.problems:
            print(f"    not fetched: {problem}")
    if args.apply:
        write_times(staging, {LearnerKey("canvas", str(f.user_id)): f.submitted_at
                              for f in fetched if f.submitted_at is not None})
        shutil.rmtree(into, ignore_errors=True)
        into.parent.mkdir(parents=True, exist_ok=True)
        staging.rename(into)
        print(f"Submission times in {into / TIMES_FILE}; grade with: python -m autograder grade "
              f"{args.assignment} --submissions {into}")
    return 1 if any(f.problems for f in fetched) else 0


def _load(args: argparse.Namespace) -> tuple[ClassScores, Mapping[str, GradeRecord],
                                              Roster | None]:
    course = args.course.resolve()
    scores = read_gradebook(course, args.assignment)
    records = GradingState(course / ".grading" / f"{args.assignment}.jsonl").records
    roster = Roster.load(args.roster) if args.roster else None
    return scores, records, roster


def export_main(argv: list[str] | None = None) -> int:
    from autograder.grading import export as plain
    from autograder.lms import export

    args = export_parser().parse_args(argv)
    if args.format == "canvas" and not args.canvas_assignment_id:
        print("error: --format canvas needs --canvas-assignment-id (the number in the "
              "assignment's Canvas address): Canvas's import matches the column by it",
              file=sys.stderr)
        return 2
    try:
        scores, records, roster = _load(args)
    except (GradingError, RosterError, OSError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    course = args.course.resolve()
    name = (f"grades-{args.assignment}.csv" if args.format == "csv"
            else f"{args.format}-{args.assignment}.csv")
    out = args.out or course / name
    rows = final_rows(scores, records, lms=None if args.format == "csv" else args.format,
                      roster=roster)
    unmatched: tuple[str, ...] = ()
    if args.format == "csv":  # the grade command's own CSV, with the final scores
        given = {}
        for r in rows:
            sub = scores.submissions.get(r.student_id)
            given[r.student_id] = {
                "score": r.score, "max_score": r.max_score,
                "late_penalty": sub.penalty if sub else 0.0,
                "questions": dict(sub.questions) if sub else {},
                "needs_manual_grade": bool(sub and sub.needs_manual_grade)}
        table = plain.rows(args.assignment, list(scores.grade_ids), given, records,
                           max_score=scores.max_score)
        plain.write_csv(out, table, list(scores.grade_ids))
        written = len(table)
    else:
        made = (export.canvas_csv(rows, title=args.assignment,
                                  assignment_id=args.canvas_assignment_id)
                if args.format == "canvas" else
                export.moodle_csv(rows, exported_at=datetime.now(UTC)))
        export.write(out, made)
        written, unmatched = made.rows, made.unmatched
    empty = sum(1 for r in rows if r.score is None and r.student_id not in unmatched)
    print(f"Wrote {out}: {written} learners, {empty} of them with an empty score (could not be "
          "graded)")
    if unmatched:
        print(f"Left out {len(unmatched)} learners with no {args.format} id (pass --roster, or "
              f"use ids like {args.format}-<id>): {', '.join(map(printable, unmatched))}",
              file=sys.stderr)
        return 1
    return 0


def _comment(assignment: str, scores: ClassScores, record: GradeRecord | None,
             student: str) -> str:
    sub = scores.submissions.get(student)
    if sub is None or (record is not None and record.outcome == "not-gradable"):
        reason = record.reason if record is not None else "no submission was graded"
        return (f"{assignment} could not be graded: {reason}. Please correct this and submit "
                "again; no grade was given for this submission.")
    from autograder.lms.export import points

    late = (f" after a late penalty of {points(sub.penalty)}" if sub.penalty > 0 else "")
    return (f"{assignment}: {points(sub.final)} of {points(sub.max_score)} points{late}. The "
            "attached file is your notebook as graded, with each test's result.")


def upload_main(argv: list[str] | None = None) -> int:
    from autograder.lms.canvas import CanvasTarget, LearnerUpload, UploadError, upload

    args = upload_parser().parse_args(argv)
    token = _token()
    if not token:
        return 2
    try:
        target = CanvasTarget(args.canvas_url, token, args.canvas_course_id,
                              args.canvas_assignment_id)
        scores, records, roster = _load(args)
    except (ValueError, GradingError, OSError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    course = args.course.resolve()
    learners: list[LearnerUpload] = []
    skipped: list[str] = []
    for row in final_rows(scores, records, lms="canvas", roster=roster):
        record = records.get(row.student_id)
        if row.lms_user_id is None:
            skipped.append(row.student_id)
            continue
        if record is not None and record.outcome in NO_SCORE - {"not-gradable"}:
            continue  # the machinery failed, not the learner: regraded, not reported to them
        learners.append(LearnerUpload(
            int(row.lms_user_id), row.student_id, row.score,
            _comment(args.assignment, scores, record, row.student_id),
            scores.feedback_files(row.student_id)))
    state = args.state or course / ".grading" / f"{args.assignment}.canvas.json"
    try:
        report = upload(target, learners, state_path=state, apply=args.apply)
    except UploadError as err:
        if err.report is not None:
            print(err.report.text())
        print(f"error: {err}", file=sys.stderr)
        return 1
    print(report.text())
    if skipped:
        print(f"Left out {len(skipped)} learners with no Canvas id (pass --roster): "
              f"{', '.join(map(printable, skipped))}", file=sys.stderr)
    return 1 if skipped or report.problems else 0
