"""`python -m autograder grade <assignment>`: grade a whole class in one command.

    submissions -> collect -> run (jobs on an Executor) -> gradebook -> feedback -> export

The parent process collects and checks submissions, prepares each notebook with nbgrader (tests
restored from the gradebook), hands plain-data jobs to a process pool (or a Dask cluster with
``--scheduler``), and commits each result to the gradebook as it arrives, so a crash or Ctrl-C
keeps everything finished so far and a re-run grades only new or changed submissions.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import sys
import time
import warnings
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, Executor, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from nbformat.validator import MissingIDFieldWarning
from sqlalchemy.exc import SAWarning

from autograder import scan
from autograder.grading import export, jobs
from autograder.grading.collect import STUDENT_ID, Submission, collect
from autograder.grading.feedback import annotate

NO_SANDBOX_WARNING = (
    "WARNING: --no-sandbox: learner code runs unconfined, with your permissions, next to the "
    "gradebook and the hidden tests. Use only on submissions you trust."
)
DB_RETRIES = 5


@dataclass
class Report:
    """What a run did (returned to tests and the benchmark; printed as the summary)."""

    graded: list[str] = field(default_factory=list)  # students graded in this run
    skipped: list[str] = field(default_factory=list)  # unchanged since the last run
    table: list[dict[str, Any]] = field(default_factory=list)  # the CSV rows
    seconds: float = 0.0
    text: str = ""
    interrupted: bool = False
    where: str = ""  # how the jobs ran: sandbox or not, on which executor

    def __repr__(self) -> str:
        return (f"Report(graded={len(self.graded)}, skipped={len(self.skipped)}, "
                f"{self.seconds:.1f} s)")


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
                        "LMS download of <student>.ipynb / <student>.zip / <student>_*.zip "
                        "(default: the course's submitted/)")
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
    p.add_argument("--no-sandbox", action="store_true",
                   help="run learner code without the bubblewrap sandbox (trusted code only)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    return p


def main(argv: list[str] | None = None) -> int:
    from autograder.grading.gradebook import CourseError

    args = parser().parse_args(argv)
    if args.workers is not None and args.workers < 1:
        print("--workers must be at least 1", file=sys.stderr)
        return 2
    try:
        report = grade(args.course, args.assignment, submissions=args.submissions,
                       workers=args.workers, scheduler=args.scheduler, csv_path=args.csv,
                       force=args.force, feedback=args.feedback, sandbox=not args.no_sandbox,
                       progress=not args.quiet)
    except CourseError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(report.text)
    return 130 if report.interrupted else 0


def _executor(workers: int | None, scheduler: str | None,
              use_sandbox: bool) -> tuple[Executor, int, Any]:
    """(executor, how many jobs it runs at once, the Dask client or None)."""
    if scheduler:
        from distributed import Client

        client = Client(scheduler)
        slots = sum(client.nthreads().values()) or 1
        return client.get_executor(pure=False), slots, client
    n = workers or 2 * (os.cpu_count() or 1)
    pool = ProcessPoolExecutor(max_workers=n, mp_context=multiprocessing.get_context("spawn"),
                               initializer=jobs.warm_worker, initargs=(use_sandbox,))
    return pool, n, None


def _choose_sandbox(wanted: bool, out: TextIO) -> bool:
    if not wanted:
        print(NO_SANDBOX_WARNING, file=sys.stderr)
        return False
    problem = jobs.sandbox_available()
    if problem is None:
        return True
    raise SystemExit(f"cannot grade in the sandbox: {problem}.\nFix that, or (trusted code "
                     "only) pass --no-sandbox to run learner code unconfined.")


def grade(course: Path, assignment: str, *, submissions: Path | None = None,
          workers: int | None = None, scheduler: str | None = None,
          csv_path: Path | None = None, force: bool = False, feedback: bool = False,
          sandbox: bool = True, progress: bool = True, out: TextIO = sys.stdout) -> Report:
    """Grade every new or changed submission of `assignment` in `course`; see the module doc."""
    from tqdm import tqdm

    from autograder.grading.gradebook import ClassGradebook
    from autograder.grading.state import GradingState

    warnings.filterwarnings("ignore", category=MissingIDFieldWarning)  # learners' old notebooks
    warnings.filterwarnings("ignore", category=SAWarning)  # nbgrader's own session handling
    start = time.perf_counter()
    here = os.getcwd()
    course = course.resolve()
    state_dir = course / ".grading"
    book = ClassGradebook(course, assignment, state_dir / f"{assignment}.log")
    report = Report()
    try:
        use_sandbox = _choose_sandbox(sandbox, out)
        state = GradingState(state_dir / f"{assignment}.jsonl")
        subs = collect(course, assignment, book.notebook_id, submissions)
        todo: list[Submission] = []
        for sub in subs:
            current = (STUDENT_ID.match(sub.student) is None
                       or book.autograded_path(sub.student).exists())
            if not force and current and state.is_current(sub.student, book.key(sub)):
                report.skipped.append(sub.student)
            else:
                todo.append(sub)
        bar = tqdm(total=len(todo), desc=f"grading {assignment}", unit="nb", file=sys.stderr,
                   disable=not progress or not todo, smoothing=0.1)
        try:
            _run(book, state, todo, use_sandbox, workers, scheduler, bar, report)
        except KeyboardInterrupt:
            report.interrupted = True
        finally:
            bar.close()
        if feedback and report.graded:
            _feedback(book, report.graded)
        table = export.rows(assignment, list(book.max_points), book.scores(), state.records)
        report.table = table
        path = csv_path or course / f"grades-{assignment}.csv"
        export.write_csv(path, table, list(book.max_points))
        report.seconds = time.perf_counter() - start
        report.text = export.summary(table, book.max_points, state.records,
                                     graded_now=len(report.graded),
                                     skipped=len(report.skipped), seconds=report.seconds)
        if report.where:
            report.text += f"\n\nRan {report.where}."
        report.text += f"\nGrades written to {path}"
        if report.interrupted:
            left = len(todo) - len(report.graded)
            report.text += (f"\nInterrupted: {left} submissions not graded yet; run the same "
                            "command again to grade them (finished ones are kept).")
    finally:
        book.close()
        os.chdir(here)
    return report


def _prepared(book: Any, state: Any, todo: list[Submission], use_sandbox: bool,
              report: Report, bar: Any) -> Iterator[Any]:
    """Prepare runnable submissions one at a time; record unrunnable ones right away."""
    import dataclasses

    for sub in todo:
        if sub.problem is None:
            try:
                prepared = book.prepare(sub)
            except Exception as err:  # nbgrader refused the notebook (e.g. damaged metadata)
                sub.problem = ("the notebook's grading information is damaged, so it could not "
                               f"be graded ({_first_line(err)})")
            else:
                prepared.job = dataclasses.replace(prepared.job, sandbox=use_sandbox)
                scan.mark(book, prepared)  # static scan: tampering is graded, and reviewed
                yield prepared
                continue
        _with_retries(lambda sub=sub: _record_problem(book, state, sub))
        report.graded.append(sub.student)
        bar.update(1)


def _record_problem(book: Any, state: Any, sub: Submission) -> None:
    if STUDENT_ID.match(sub.student):
        book.record_problem(sub, annotate)
    state.add({"student": sub.student, "key": book.key(sub), "outcome": "refused",
               "reason": sub.problem, "mistakes": [], "seconds": 0.0, "at": time.time()})


def _run(book: Any, state: Any, todo: list[Submission], use_sandbox: bool,
         workers: int | None, scheduler: str | None, bar: Any, report: Report) -> None:
    if not todo:
        return
    keys = {sub.student: book.key(sub) for sub in todo}
    source = _prepared(book, state, todo, use_sandbox, report, bar)
    executor, slots, client = _executor(workers, scheduler, use_sandbox)
    report.where = (("in the sandbox" if use_sandbox else "UNCONFINED (--no-sandbox)") + ", "
                    + (f"on the Dask cluster at {scheduler} ({slots} slots)" if scheduler
                       else f"{slots} local workers"))
    pending: dict[Future[jobs.JobResult], Any] = {}
    try:
        window = slots * 2  # enough queued that no worker waits on the parent; memory stays flat
        exhausted = False
        while True:
            while not exhausted and len(pending) < window:
                prepared = next(source, None)
                if prepared is None:
                    exhausted = True
                    break
                pending[executor.submit(jobs.run_job, prepared.job)] = prepared
            if not pending:
                break
            done, _ = wait(list(pending), return_when=FIRST_COMPLETED)
            for future in done:
                prepared = pending.pop(future)
                result = _result(future, prepared)
                mistakes = _with_retries(lambda r=result, p=prepared: book.record(r, p, annotate))
                if mistakes is None:  # the gradebook stayed locked: leave it for the next run
                    continue
                # a grader-side failure is retried by the next run; learner outcomes are final
                key = "" if result.outcome == "error" else keys[result.student]
                state.add({"student": result.student, "key": key,
                           "outcome": result.outcome, "reason": _reason(result, prepared),
                           "mistakes": mistakes, "seconds": round(result.seconds, 3),
                           "review": scan.flagged(prepared.notes),
                           "worker": result.worker, "at": time.time()})
                report.graded.append(result.student)
                bar.update(1)
    finally:
        for future in pending:
            future.cancel()
        if client is not None:
            client.close()
        else:
            executor.shutdown(wait=True, cancel_futures=True)


def _result(future: Future[jobs.JobResult], prepared: Any) -> jobs.JobResult:
    """The job's result, or an "error" result if the worker itself was lost."""
    try:
        return future.result()
    except Exception as err:
        job = prepared.job
        return jobs.JobResult(job.student, job.assignment, job.notebook_id, job.digest, None,
                              "error", f"the grading worker failed ({_first_line(err)}); "
                              "run the command again", None)


def _reason(result: jobs.JobResult, prepared: Any) -> str:
    parts = [result.reason] if result.reason else []
    parts.extend(prepared.notes)
    return "; ".join(parts)


def _with_retries(action: Any) -> Any:
    """Run a gradebook write, retrying while sqlite is locked by another nbgrader command."""
    from sqlalchemy.exc import OperationalError

    for attempt in range(DB_RETRIES):
        try:
            return action()
        except OperationalError:
            if attempt == DB_RETRIES - 1:
                print("the gradebook stayed locked; this submission is left for the next run",
                      file=sys.stderr)
                return None
            time.sleep(0.2 * 2 ** attempt)
    return None


def _feedback(book: Any, students: list[str]) -> None:
    """nbgrader's own HTML feedback for `students`, in this process (no per-learner start-up)."""
    from nbgrader.converters import GenerateFeedback, NbGraderException

    conv = GenerateFeedback(coursedir=book.coursedir, parent=book.app)
    conv.force = True
    for student in students:
        if not STUDENT_ID.match(student) or not book.autograded_path(student).exists():
            continue
        book.coursedir.student_id = student
        try:
            conv.start()
        except NbGraderException:
            print(f"feedback for {student} failed: see .grading/{book.assignment}.log",
                  file=sys.stderr)
    book.coursedir.student_id = "*"


def _first_line(err: BaseException) -> str:
    text = str(err).strip().splitlines()
    return f"{type(err).__name__}: {text[0]}" if text else type(err).__name__

