"""`grade_class`: grade a whole class in one call (what `python -m autograder grade` runs).

    submissions -> collect -> run (jobs on an Executor) -> gradebook -> feedback -> export

The parent process collects and checks submissions (an LMS download is imported first), prepares
each notebook with nbgrader (tests restored from the gradebook), hands plain-data jobs (one per
notebook of a submission) to a process pool (or a Dask cluster with ``scheduler``), and commits
each learner's results to the gradebook once all their notebooks have run, so a crash or Ctrl-C
keeps everything finished so far and a re-run grades only new or changed submissions. A learner
is recorded whole or not at all: when the machinery fails one of their notebooks, nothing of
theirs is written (their earlier grade stays). Errors that stop the whole run are
`GradingError`s; everything about one learner is that learner's record.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import multiprocessing
import os
import re
import sys
import time
import warnings
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Executor, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from nbformat.warnings import MissingIDFieldWarning
from sqlalchemy.exc import SAWarning

from autograder import scan
from autograder.grading import export, worker
from autograder.grading.canary import (
    canary_jobs,
    dask_submit,
    local_submit,
    probe_imports,
    run_canary,
)
from autograder.grading.collect import STUDENT_ID, Submission, collect
from autograder.grading.errors import CourseError, MachineryFailure, SandboxUnavailable
from autograder.grading.feedback import annotate
from autograder.grading.outcome import outcome_of_run, rule
from autograder.grading.records import GradeRecord, GradingState, NotebookRecord
from autograder.lms.naming import Roster, RosterError
from autograder.lms.times import TimesError
from autograder.text import printable

if TYPE_CHECKING:
    from tqdm import tqdm

    from autograder.grading.gradebook import ClassGradebook, Earlier, Prepared

__all__ = ["NO_SANDBOX_WARNING", "Report", "grade_class", "select"]

NO_SANDBOX_WARNING = (
    "WARNING: --no-sandbox: learner code runs unconfined, with your permissions, next to the "
    "gradebook and the hidden tests. Use only on submissions you trust."
)
DB_RETRIES = 5
SETTLE, SETTLE_MAX = 2.0, 15.0  # seconds: how long a Dask cluster's worker count must hold
MACHINERY_RETRIES = 1  # a job the machinery failed runs once more (elsewhere, if it can)
T = TypeVar("T")


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
    exit_code: int = 0
    failures: list[tuple[str, str]] = field(default_factory=list)  # machinery: (student, why)
    feedback_failed: list[str] = field(default_factory=list)  # graded, but no feedback page
    retried: list[str] = field(default_factory=list)
    workers: Counter[str] = field(default_factory=Counter)  # jobs per worker
    released: list[str] = field(default_factory=list)  # feedback released through the exchange

    def __repr__(self) -> str:
        return (f"Report(graded={len(self.graded)}, skipped={len(self.skipped)}, "
                f"{self.seconds:.1f} s, exit {self.exit_code})")


def grade_class(course: Path, assignment: str, *, submissions: Path | None = None,
                workers: int | None = None, scheduler: str | None = None,
                csv_path: Path | None = None, force: bool = False, feedback: bool = False,
                sandbox: bool = True, progress: bool = True, hold_flagged: bool = False,
                canary: bool = True, worker_timeout: float = 60.0,
                students: Sequence[str] = (), roster: Path | None = None,
                release_feedback: bool = False) -> Report:
    """Grade every new or changed submission of `assignment` in `course`; see the module doc.

    `students` regrades just those learners (as if forced); `roster` maps an LMS download's
    learners to nbgrader ids; `release_feedback` generates (as `feedback`) and releases
    nbgrader's feedback to learners who submitted through nbgrader's exchange. Raises
    `GradingError` (with the sentence to show) when the class cannot be graded at all.
    """
    from tqdm import tqdm

    from autograder.grading.gradebook import ClassGradebook

    feedback = feedback or release_feedback  # never release feedback older than the grade
    warnings.filterwarnings("ignore", category=MissingIDFieldWarning)  # learners' old notebooks
    warnings.filterwarnings("ignore", category=SAWarning)  # nbgrader's own session handling
    start = time.perf_counter()
    course = course.resolve()
    state_dir = course / ".grading"
    report = Report()
    with ClassGradebook(course, assignment, state_dir / f"{assignment}.log") as book:
        use_sandbox = _choose_sandbox(sandbox, (str(course),))
        state = GradingState(state_dir / f"{assignment}.jsonl")
        try:
            learners = Roster.load(roster) if roster else None
            collected = collect(course, assignment, book.notebook_ids, submissions, learners)
        except (RosterError, TimesError) as err:
            raise CourseError(str(err)) from err
        except OSError as err:
            raise CourseError(f"cannot read {err.filename or 'the submissions'}: "
                              f"{err.strerror or err}") from err
        subs = collected.submissions
        todo, report.skipped = select(subs, lambda sub: (
            (STUDENT_ID.match(sub.student) is None or sub.problem is not None
             or book.is_autograded(sub)) and state.is_current(sub.student, book.key(sub))),
            force=force, students=students)
        bar = tqdm(total=len(todo), desc=f"grading {assignment}", unit="sub", file=sys.stderr,
                   disable=not progress or not todo, smoothing=0.1)
        try:
            _run(book, state, todo, use_sandbox, workers, scheduler, bar, report, canary,
                 worker_timeout)
        except KeyboardInterrupt:
            report.interrupted = True
        finally:
            bar.close()
        graded_now = [s for s in report.graded if STUDENT_ID.match(s)]
        if feedback and graded_now:
            problems = {s: state.records[s].reason for s in graded_now
                        if s in state.records and state.records[s].outcome == "not-gradable"}
            for student in book.generate_feedback(graded_now, problems):
                report.feedback_failed.append(student)
                print(f"feedback for {student} failed: see .grading/{assignment}.log",
                      file=sys.stderr)
        unreleased: list[str] = []
        if release_feedback:
            report.released, failed, unreleased = book.release_feedback(graded_now)
            for student in failed:
                print(f"releasing the feedback of {student} failed: see "
                      f".grading/{assignment}.log", file=sys.stderr)
        table = export.rows(assignment, list(book.max_points), book.scores(), state.records,
                            hold_flagged=hold_flagged, max_score=sum(book.max_points.values()))
        report.table = table
        path = csv_path or course / f"grades-{assignment}.csv"
        export.write_csv(path, table, list(book.max_points))
        report.seconds = time.perf_counter() - start
        report.text = export.summary(table, book.max_points, state.records,
                                     graded_now=len(report.graded),
                                     skipped=len(report.skipped), seconds=report.seconds)
        if collected.imported is not None:
            report.text = (f"From the download {submissions}:\n{collected.imported.summary()}"
                           f"\n\n{report.text}")
        if report.where:
            report.text += f"\n\nRan {report.where}."
            if len(report.workers) > 1:
                report.text += " Jobs per worker: " + ", ".join(
                    f"{w} {n}" for w, n in sorted(report.workers.items())) + "."
            if report.retried:
                again = ", ".join(sorted(set(report.retried)))
                report.text += (f" Run again after a failure of the machinery: "
                                f"{len(report.retried)} ({again}).")
        if release_feedback:
            report.text += (f"\nFeedback released through nbgrader's exchange to "
                            f"{len(report.released)} learners (the others graded now did not "
                            "submit through it: their feedback goes back through the LMS).")
            if unreleased:
                report.text += (f" No feedback to release for {len(unreleased)} (run with "
                                f"--feedback): {', '.join(unreleased)}.")
        report.text += f"\nGrades written to {path}"
        if report.interrupted:
            left = len(todo) - len(report.graded) - len(report.failures)
            report.text += (f"\nInterrupted: {left} submissions not graded yet; run the same "
                            "command again to grade them (finished ones are kept).")
            report.exit_code = 130
        else:
            report.exit_code = max((rule(state.records[s].outcome).exit_code
                                    for s in report.graded if s in state.records), default=0)
        if report.failures:
            report.exit_code = max(report.exit_code, MachineryFailure.exit_code)
            report.text += "\n\n" + _failures_text(report.failures)
        if report.feedback_failed:  # the grades stand; the run is not whole
            report.exit_code = max(report.exit_code, MachineryFailure.exit_code)
            report.text += ("\n\nFeedback could not be written for "
                            f"{', '.join(report.feedback_failed)} (their grades are recorded): "
                            f"see .grading/{assignment}.log, then run with --feedback again.")
    return report


def select(subs: Sequence[Submission], unchanged: Callable[[Submission], bool], *,
           force: bool = False, students: Sequence[str] = ()) -> tuple[list[Submission],
                                                                     list[str]]:
    """(to grade, skipped): with `students`, just those (as if forced; raises `CourseError`
    naming any without a submission); else with `force` everyone; else the submissions not
    `unchanged` since their last grading."""
    chosen = set(students)
    unknown = sorted(chosen - {sub.student for sub in subs})
    if unknown:
        assignment = subs[0].assignment if subs else "this assignment"
        raise CourseError(f"no submission of {assignment} for --student "
                          f"{', '.join(map(printable, unknown))}")
    todo, skipped = [], []
    for sub in subs:
        if (sub.student not in chosen) if chosen else (not force and unchanged(sub)):
            skipped.append(sub.student)
        else:
            todo.append(sub)
    return todo, skipped


def _choose_sandbox(wanted: bool, hidden: tuple[str, ...]) -> bool:
    if not wanted:
        print(NO_SANDBOX_WARNING, file=sys.stderr)
        return False
    problem = worker.backend_problem(True, hidden)
    if problem is None:
        return True
    raise SandboxUnavailable(f"cannot grade in the sandbox: {problem}.\nFix that, or (trusted "
                             "code only) pass --no-sandbox to run learner code unconfined.")


def _executor(workers: int | None, scheduler: str | None) -> tuple[Executor, int, Any]:
    """(executor, how many jobs it runs at once, the Dask client or None)."""
    if scheduler:
        from distributed import Client

        client = Client(scheduler)
        slots = sum(client.nthreads().values()) or 1
        return client.get_executor(pure=False), slots, client
    n = workers or 2 * (os.cpu_count() or 1)
    pool = ProcessPoolExecutor(max_workers=n, mp_context=multiprocessing.get_context("spawn"),
                               initializer=worker.warm_worker)
    return pool, n, None


@dataclass
class Batch:
    """One learner's submission, prepared: a job per notebook, and what to put back if nothing
    of it can be recorded."""

    sub: Submission
    key: str
    notebooks: list[Prepared]
    earlier: Earlier
    results: dict[str, worker.JobResult] = field(default_factory=dict)

    @property
    def student(self) -> str:
        return self.sub.student

    def __repr__(self) -> str:
        return f"Batch({self.student}, {len(self.results)}/{len(self.notebooks)} notebooks run)"


def _prepared(book: ClassGradebook, state: GradingState, todo: list[Submission],
              use_sandbox: bool, report: Report, bar: tqdm[Any]) -> Iterator[Batch]:
    """Prepare runnable submissions one at a time; record unrunnable ones right away."""
    from autograder.grading.gradebook import NotGradable

    for sub in todo:
        earlier = book.snapshot(sub.student) if STUDENT_ID.match(sub.student) else None
        if sub.problem is None and earlier is not None:
            try:
                notebooks = book.prepare(sub)
            except NotGradable as err:
                sub.problem = str(err)
            except Exception as err:  # nbgrader refused the notebook (e.g. damaged metadata)
                sub.problem = ("the notebook's grading information is damaged, so it could not "
                               f"be graded ({_first_line(err)})")
            else:
                notebooks[0].notes.extend(sub.notes)  # from collecting: the learner's to read
                for prepared in notebooks:
                    prepared.job = dataclasses.replace(prepared.job, sandbox=use_sandbox)
                    prepared.review = scan.review_job(
                        prepared.job, book.source_notebook_path(prepared.job.notebook_id))
                yield Batch(sub, book.key(sub), notebooks, earlier)
                continue
            book.restore(sub.student)  # nothing of this run stays: the earlier grade does
        try:
            _with_retries(functools.partial(_record_problem, book, state, sub, earlier))
        except Exception as err:  # one learner's data never stops the class
            _contain(book, state, sub.student, book.key(sub), "record why it was refused", err,
                     earlier)
        report.graded.append(sub.student)
        bar.update(1)


def _record_problem(book: ClassGradebook, state: GradingState, sub: Submission,
                    earlier: Earlier | None) -> None:
    if earlier is not None:
        book.put_back(earlier)
        book.record_problem(sub)
    state.add(GradeRecord(sub.student, book.key(sub), tuple(
        NotebookRecord(nb, "not-gradable", sub.problem or "") for nb in book.notebook_ids),
        time.time()))


def _contain(book: ClassGradebook, state: GradingState, student: str, key: str, step: str,
             err: BaseException, earlier: Earlier | None) -> None:
    """A step that failed on one learner's data: that learner is not gradable, with the reason,
    recorded under the same key (a re-run does not stumble on it again), and the class goes on.
    Nothing of this run stays in the gradebook or autograded/: the earlier grade does."""
    reason = (f"the grader could not {step} for this submission ({_first_line(err)}); the "
              "instructor has the details in the grading log")
    book.app.log.error("%s: could not %s", student, step, exc_info=err)
    with contextlib.suppress(Exception):
        book.restore(student)
    if earlier is not None:
        with contextlib.suppress(Exception):
            book.put_back(earlier)
    state.add(GradeRecord(student, key, tuple(NotebookRecord(nb, "not-gradable", reason)
                                              for nb in book.notebook_ids), time.time()))


def _run(book: ClassGradebook, state: GradingState, todo: list[Submission], use_sandbox: bool,
         workers: int | None, scheduler: str | None, bar: tqdm[Any], report: Report,
         canary: bool, worker_timeout: float) -> None:
    if not todo:
        return
    executor, slots, client = _executor(workers, scheduler)
    pending: dict[Future[worker.JobResult], tuple[Batch, Prepared]] = {}
    given_up: set[str] = set()  # learners whose grading the machinery failed: not recorded
    saving: Batch | None = None

    def fail(batch: Batch, why: str) -> None:
        given_up.add(batch.student)
        _give_back(book, batch)
        report.failures.append((batch.student, why))
        bar.update(1)

    try:
        places = _places(client, worker_timeout)
        if client is not None:  # the workers are there now: as many jobs at once as they take
            probe_imports(client, places)
            # only the workers the canary checks take jobs (one that joins later is not used)
            executor = client.get_executor(pure=False, workers=places, allow_other_workers=False)
            threads = client.nthreads()
            slots = sum(threads.get(p, 0) for p in places) or 1
        report.where = (("in the sandbox" if use_sandbox else "UNCONFINED (--no-sandbox)") + ", "
                        + (f"on the Dask cluster at {scheduler} ({len(places)} workers, {slots} "
                           "slots)" if scheduler else f"{slots} local workers"))
        if canary:
            jobs = canary_jobs([(book.source_notebook_path(nb), book.release_notebook_path(nb))
                                for nb in book.notebook_ids], book.limits, sandbox=use_sandbox,
                               hidden=(str(book.course),))
            submit = dask_submit(client) if client is not None else local_submit(executor)
            checked = run_canary(jobs, submit, places or [None])
            print(f"canary: the reference passes and the untouched student version earns "
                  f"nothing, {'on each of ' + str(checked) + ' workers' if client else 'here'}",
                  file=sys.stderr)
        source = _prepared(book, state, todo, use_sandbox, report, bar)
        window = slots * 2  # enough queued that no worker waits on the parent; memory stays flat
        exhausted = False
        tries: dict[tuple[str, str], int] = {}
        while True:
            while not exhausted and len(pending) < window:
                batch = next(source, None)
                if batch is None:
                    exhausted = True
                    break
                for prepared in batch.notebooks:
                    pending[executor.submit(worker.run_job, prepared.job)] = (batch, prepared)
            if not pending:
                break
            done, _ = wait(list(pending), timeout=worker_timeout, return_when=FIRST_COMPLETED)
            if not done:
                alive = set(client.scheduler_info().get("workers", {})) if client else set()
                if client is not None and not alive & set(places):
                    for lost in {b.student: b for b, _ in pending.values()}.values():
                        if lost.student not in given_up:
                            fail(lost, "the Dask cluster has no workers left")
                    for future in pending:
                        future.cancel()
                    pending.clear()
                continue
            for future in done:
                batch, prepared = pending.pop(future)
                if batch.student in given_up:
                    continue  # another notebook of this learner already failed
                result = _result(future, prepared)
                if result.outcome == "failed":  # the machinery's: once more, else no grade
                    job_key = (batch.student, prepared.job.notebook_id)
                    tries[job_key] = tries.get(job_key, 0) + 1
                    if tries[job_key] <= MACHINERY_RETRIES:
                        report.retried.append(batch.student)
                        pending[executor.submit(worker.run_job, prepared.job)] = (batch,
                                                                                  prepared)
                        continue
                    fail(batch, result.reason)
                    continue
                report.workers[result.worker] += 1
                batch.results[prepared.job.notebook_id] = result
                if len(batch.results) == len(batch.notebooks):
                    saving = batch  # a Ctrl-C while it is saved gives it back whole
                    _save(book, state, batch, report)
                    saving = None
                    bar.update(1)
    finally:
        unfinished = {b.student: b for b, _ in pending.values() if b.student not in given_up}
        if saving is not None and saving.student not in report.graded:
            unfinished[saving.student] = saving  # stopped half-way through its notebooks
        for future in pending:
            future.cancel()
        for batch in unfinished.values():  # not graded: the earlier grade and notebooks stay
            _give_back(book, batch)
        if client is not None:
            client.close()
        else:
            executor.shutdown(wait=True, cancel_futures=True)


def _give_back(book: ClassGradebook, batch: Batch) -> None:
    """Nothing of this run stays for `batch`'s learner: files and gradebook as they were."""
    book.restore(batch.student)
    with contextlib.suppress(Exception):
        _with_retries(functools.partial(book.put_back, batch.earlier))


def _save(book: ClassGradebook, state: GradingState, batch: Batch, report: Report) -> None:
    """Record one learner's results, every notebook (nbgrader's steps), then the state."""
    records = []
    try:
        for prepared in batch.notebooks:
            result = batch.results[prepared.job.notebook_id]
            review = _review(result, prepared)
            saved = _with_retries(functools.partial(
                book.record, result, prepared, annotate, review, _first_cell(review)))
            if saved is None:  # the gradebook stayed locked: leave it for the next run
                _give_back(book, batch)
                return
            mistakes, flagged = saved
            records.append(NotebookRecord(
                result.notebook_id, outcome_of_run(result.outcome), _reason(result, prepared),
                tuple(mistakes), review, round(result.seconds, 3), result.worker, flagged))
    except Exception as err:  # one learner's data never stops the class
        _contain(book, state, batch.student, batch.key, "save the graded notebook", err,
                 batch.earlier)
        report.graded.append(batch.student)
        return
    for notebook in batch.sub.absent:  # nbgrader scored it 0 while preparing
        records.append(NotebookRecord(notebook, "graded",
                                      f"no {notebook}.ipynb was submitted: its questions score 0"))
    book.forget_backup(batch.student)
    state.add(GradeRecord(batch.student, batch.key, tuple(records), time.time()))
    report.graded.append(batch.student)


def _places(client: Any, patience: float) -> list[str]:
    """The Dask workers' addresses (waiting a while for the first), or [] for a local pool."""
    if client is None:
        return []
    try:
        client.wait_for_workers(1, timeout=patience)
    except Exception as err:
        raise MachineryFailure(f"the Dask scheduler has no workers ({_first_line(err)}): start "
                               "them with `dask worker <scheduler address>`") from err
    # Workers started together register one by one: wait until their number holds for
    # SETTLE seconds (at most SETTLE_MAX), so the canary checks every worker of the cluster.
    seen, since, start = -1, time.monotonic(), time.monotonic()
    while time.monotonic() - start < SETTLE_MAX:
        count = len(client.scheduler_info().get("workers", {}))
        if count != seen:
            seen, since = count, time.monotonic()
        elif time.monotonic() - since >= SETTLE:
            break
        time.sleep(0.25)
    return sorted(client.scheduler_info().get("workers", {}))


def _result(future: Future[worker.JobResult], prepared: Prepared) -> worker.JobResult:
    """The job's result, or a "failed" result if the worker itself was lost."""
    try:
        return future.result()
    except Exception as err:
        job = prepared.job
        return worker.JobResult(job.student, job.assignment, job.notebook_id, job.resume_key,
                                None, "failed", f"the grading worker failed ({_first_line(err)})")


def _reason(result: worker.JobResult, prepared: Prepared) -> str:
    parts = [result.reason] if result.reason else []
    review = _review(result, prepared)
    if review:
        parts.append(review)
    parts.extend(prepared.notes)
    return "; ".join(parts)


def _first_cell(review: str) -> int | None:
    """The first cell a review note names ("cell 14 assigns ..."): points from there are held."""
    cells = [int(n) for n in re.findall(r"\bcell (\d+)\b", review)]
    return min(cells) if cells else None


def _review(result: worker.JobResult, prepared: Prepared) -> str:
    """The review note: what the static scan flagged, and what the guard saw at run time."""
    if not result.integrity:
        return prepared.review
    seen = (f"{scan.REVIEW}: tests scored 0 from where the grader saw the notebook change "
            f"what they rely on: {result.integrity}")
    return f"{prepared.review}; {seen}" if prepared.review else seen


def _with_retries(action: Callable[[], T]) -> T | None:
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


def _failures_text(failures: list[tuple[str, str]]) -> str:
    reasons = Counter(reason for _, reason in failures)
    lines = [f"NOT GRADED: the grading machinery failed for {len(failures)} submissions (they "
             "were not graded, no grade was written or replaced; fix the cause and run the same "
             "command again):"]
    lines += [f"  {count} x {printable(reason, 200)}" for reason, count in reasons.most_common(3)]
    lines.append("  " + ", ".join(sorted(s for s, _ in failures)))
    return "\n".join(lines)


def _first_line(err: BaseException) -> str:
    text = str(err).strip().splitlines()
    return f"{type(err).__name__}: {text[0]}" if text else type(err).__name__


