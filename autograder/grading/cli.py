"""`python -m autograder grade <assignment>`: the command line of `pipeline.grade_class`.

Turns the arguments into a call and its typed errors into one line on stderr and an exit code:
0 done, 1 the grading machinery failed (the canary, or some submissions: they stay to do, no
grade was written or replaced; the summary names them), 2 the class cannot be graded as asked,
130 interrupted.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

__all__ = ["main", "parser"]


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m autograder grade",
        description="Autograde every submission of an assignment (parallel, resumable) and "
                    "export the class's grades.")
    p.add_argument("assignment", help="assignment id, e.g. ps1")
    p.add_argument("--course", type=Path, default=Path.cwd(),
                   help="course root holding nbgrader_config.py (default: current folder)")
    p.add_argument("--submissions", type=Path, default=None,
                   help="folder of submissions: nbgrader's <student>/<assignment>/ layout, or an "
                        "LMS download (Canvas's or Moodle's file names, <student>.ipynb, "
                        "<student>.zip; with submission times when `fetch` made it) "
                        "(default: the course's submitted/)")
    p.add_argument("--roster", type=Path, default=None,
                   help="with --submissions: the LMS's roster (Canvas's gradebook export or "
                        "Moodle's grading worksheet) mapping LMS ids to nbgrader ids; without "
                        "it, learners get ids like canvas-111")
    p.add_argument("--student", action="append", default=[], metavar="ID",
                   help="regrade just this learner (nbgrader id), as if forced; repeatable")
    p.add_argument("--workers", type=int, default=None,
                   help="notebooks run at once on this machine (default: twice the cores: "
                        "notebooks spend much of their time waiting, not computing)")
    p.add_argument("--scheduler", default=None,
                   help="Dask scheduler address (tcp://host:8786): run the jobs on its workers")
    p.add_argument("--csv", type=Path, default=None,
                   help="grades CSV (default: grades-<assignment>.csv in the course)")
    p.add_argument("--force", action="store_true", help="regrade every submission")
    p.add_argument("--feedback", action="store_true",
                   help="also generate the HTML feedback (nbgrader generate_feedback) of those "
                        "graded now")
    p.add_argument("--release-feedback", action="store_true",
                   help="generate the feedback (as --feedback) and release it (nbgrader "
                        "release_feedback) to the learners graded now who submitted through "
                        "nbgrader's exchange, for their Assignment List")
    p.add_argument("--no-sandbox", action="store_true",
                   help="run learner code without the bubblewrap sandbox (trusted code only)")
    p.add_argument("--hold-flagged", action="store_true",
                   help="leave the score of a submission marked for review empty in the CSV "
                        "until someone has looked at it")
    p.add_argument("--no-canary", action="store_true",
                   help="skip grading the reference and the untouched student version first "
                        "(they show that the workers, the sandbox and the kernel can grade)")
    p.add_argument("--worker-timeout", type=float, default=60.0, metavar="SECONDS",
                   help="with --scheduler: how long the cluster may have no worker before the "
                        "jobs still waiting count as failures of the machinery (default: 60)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    return p


def main(argv: list[str] | None = None) -> int:
    from autograder.grading.errors import GradingError
    from autograder.grading.pipeline import grade_class

    args = parser().parse_args(argv)
    if args.workers is not None and args.workers < 1:
        print("error: --workers must be at least 1", file=sys.stderr)
        return 2
    if args.roster and not args.submissions:
        print("error: --roster names the learners of an LMS download: give the download with "
              "--submissions", file=sys.stderr)
        return 2
    try:
        report = grade_class(args.course, args.assignment, submissions=args.submissions,
                             workers=args.workers, scheduler=args.scheduler, csv_path=args.csv,
                             force=args.force, feedback=args.feedback,
                             sandbox=not args.no_sandbox, progress=not args.quiet,
                             hold_flagged=args.hold_flagged, canary=not args.no_canary,
                             worker_timeout=args.worker_timeout, students=args.student,
                             roster=args.roster, release_feedback=args.release_feedback)
    except GradingError as err:
        print(f"error: {err}", file=sys.stderr)
        return err.exit_code
    print(report.text)
    return report.exit_code
