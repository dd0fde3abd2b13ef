"""Gradebook: the one writer into nbgrader's gradebook, through nbgrader's own code.

`nbgrader autograde` per learner does: create student and submission (with its timestamp), copy
the assignment's files, *sanitize* (ClearOutput, DeduplicateIds, OverwriteKernelspec,
OverwriteCells: restore locked and hidden tests, CheckCellMetadata), *execute* (Execute), then
*save* (IgnorePattern, ClearMetadata, LimitOutput, SaveAutoGrades, AssignLatePenalties,
CheckCellMetadata) and write ``autograded/<student>/<assignment>/``. This module runs exactly those
steps with nbgrader's own converter and preprocessors, configured from the course's
``nbgrader_config.py``, split in two: `prepare` (before the job) and `record` (when its result
arrives). Only the Execute step moves out, into the job. Everything else runs in this one process,
so there is a single writer to sqlite and nbgrader starts once, not once per learner.

Any nbgrader assignment: every notebook of it is prepared as its own job (nbgrader's files of the
assignment beside it, as nbgrader leaves them in ``autograded/``), recorded per notebook as
nbgrader records it (manually graded cells are left to the formgrader), and a notebook the
learner did not hand in scores 0 as nbgrader scores it. A submission that cannot be graded writes
no score: nbgrader's steps before execution already touch the learner's submission (its time,
absent notebooks), so `snapshot` keeps what the gradebook held and `put_back` restores it.
"""

from __future__ import annotations

import copy
import hashlib
import json
import logging
import os
import shutil
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any

import nbformat
import sqlalchemy
from nbconvert.exporters import NotebookExporter
from nbconvert.writers.files import FilesWriter
from nbgrader.api import Gradebook, MissingEntry
from nbgrader.apps.autogradeapp import AutogradeApp
from nbgrader.converters import Autograde
from nbgrader.preprocessors import Execute
from nbgrader.utils import is_grade

from autograder.execution import Limits, UnsupportedSetting, limits_from_course
from autograder.grading.collect import Submission
from autograder.grading.errors import CourseError
from autograder.grading.feedback import (
    RESUBMIT_TAG,
    hide_test_code,
    note_page,
    resubmit_cell,
    sanitize_for_readers,
)
from autograder.grading.outcome import outcome_of_run
from autograder.grading.worker import GradingJob, JobResult
from autograder.text import defused, printable, without_surrogates

#: ``annotate(notebook, outcome, reason, notes, mistakes)``: writes the grading note (feedback).
Annotate = Callable[[nbformat.NotebookNode, str, str, list[str], list[str]], None]

GRADER_VERSION = "3"  # bump when grading changes in a way that should regrade everyone


_engines: dict[str, Any] = {}


def _shared_engine(url: str, **kwargs: Any) -> Any:
    """One SQLAlchemy engine per database for this process.

    nbgrader opens a new `Gradebook` (and engine) in every step of every notebook, ~9 per learner;
    each new engine starts with an empty SQL compilation cache, which made compiling the same
    queries again most of the parent's time per learner. Sharing the engine keeps the cache;
    `Gradebook.close()` still disposes its pooled connection, so nothing stays open between steps.
    """
    if url not in _engines:
        _engines[url] = sqlalchemy.create_engine(url, **kwargs)
    return _engines[url]


@dataclass
class Prepared:
    """One notebook of a submission ready to run: the job, and what the parent learned while
    preparing it."""

    job: GradingJob
    notes: list[str]  # learner-facing remarks (e.g. a restored test cell)
    review: str = ""  # "marked for review: ..." from the static scan, or ""


class NotGradable(Exception):
    """A submitted notebook the grader will not take as it is (the message says why, to the
    learner): e.g. another assignment's notebook under this assignment's name."""


@dataclass(frozen=True)
class Earlier:
    """A learner's submission in the gradebook as it was before this run touched it, so that a
    run that grades nothing for them (not gradable, the machinery failed) leaves it as it was:
    nbgrader's own steps before execution already create the submission and set its time."""

    student: str
    existed: bool
    timestamp: datetime | None = None
    # notebook -> (late penalty, {grade: (auto score, needs manual grade)}, {comment: auto text})
    notebooks: Mapping[str, tuple[float | None, Mapping[str, tuple[float | None, bool]],
                                  Mapping[str, str | None]]] = field(default_factory=dict)


def _drop_duplicate_ids(nb: nbformat.NotebookNode) -> tuple[nbformat.NotebookNode, list[str]]:
    """Keep the grading metadata of the last cell of each grade_id, as nbgrader's DeduplicateIds
    does, but remove it from the others instead of leaving ``{}``, which nbgrader's own metadata
    check then refuses (a copied cell cost the learner the whole notebook)."""
    seen: set[str] = set()
    copied: list[str] = []
    for cell in reversed(nb.cells):
        gid = cell.metadata.get("nbgrader", {}).get("grade_id")
        if gid in seen:
            del cell.metadata["nbgrader"]
            copied.append(str(gid))
        elif gid:
            seen.add(gid)
    return nb, sorted(set(copied))


def _without_markers(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """nbgrader's markers typed into a learner's own cell would make its feedback fail
    (ClearHiddenTests reads every cell): they get an invisible space inside (`defused`)."""
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("locked") or (meta.get("grade") and not meta.get("solution")):
            continue
        cell.source = defused(cell.get("source", ""))
    return nb


def _restored_cells(nb: nbformat.NotebookNode, notice: str) -> list[str]:
    marker = notice.split("{cell_id}")[0].strip()
    found = []
    for cell in nb.cells:
        if marker and marker in cell.get("source", "")[:200]:
            found.append(cell.metadata.get("nbgrader", {}).get("grade_id", "?"))
    return found


class _PrintableFormatter(logging.Formatter):
    """nbgrader logs learner text (cell sources, errors): keep its escapes out of a terminal."""

    def format(self, record: logging.LogRecord) -> str:
        return "\n".join(printable(line, None) for line in super().format(record).split("\n"))


class ClassGradebook:
    """nbgrader's Autograde converter, driven one learner at a time by the class command.

    A context manager: it owns every side effect nbgrader needs (the working folder is the
    course, nbgrader's engine factory is shared, the app singleton exists) and undoes them all on
    exit. ``with ClassGradebook(course, "ps1", log) as book: ...``
    """

    def __init__(self, course: Path, assignment: str, log_file: Path) -> None:
        self.course = course.resolve()
        self.assignment = assignment
        self.log_file = log_file
        if not (self.course / "nbgrader_config.py").exists():
            raise CourseError(f"no nbgrader_config.py in {self.course}: run from the course root "
                              "or pass --course")
        self._restore: list[Callable[[], None]] = []

    def __enter__(self) -> ClassGradebook:
        try:
            self._open()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, kind: type[BaseException] | None, err: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        """Undo every side effect, last first."""
        while self._restore:
            self._restore.pop()()

    def _open(self) -> None:
        import nbgrader.api

        here = os.getcwd()
        os.chdir(self.course)
        self._restore.append(lambda: os.chdir(here))
        original = nbgrader.api.create_engine
        nbgrader.api.create_engine = _shared_engine  # this process is the only gradebook writer

        def unpatch() -> None:
            nbgrader.api.create_engine = original
        self._restore.append(unpatch)
        self._restore.append(AutogradeApp.clear_instance)
        assignment, log_file = self.assignment, self.log_file
        AutogradeApp.clear_instance()
        app = AutogradeApp.instance()
        app.initialize([assignment, "--log-level=WARN"], root=str(self.course))
        app.coursedir.assignment_id = assignment
        # nbgrader logs to the console; the class command shows a progress bar there instead.
        for handler in list(app.log.handlers):
            app.log.removeHandler(handler)
        log_file.parent.mkdir(parents=True, exist_ok=True)
        handler = logging.FileHandler(log_file, encoding="utf-8", errors="backslashreplace")
        handler.setFormatter(_PrintableFormatter("%(asctime)s %(levelname)s %(message)s"))
        app.log.addHandler(handler)
        self._restore.append(handler.close)
        app.log.setLevel(logging.INFO)
        app.log.propagate = False
        self.app = app
        self.coursedir = app.coursedir
        self.db_url = self.coursedir.db_url
        conv = Autograde(coursedir=self.coursedir, parent=app)
        conv.writer = FilesWriter(parent=conv, config=conv.config)
        conv.exporter = conv.exporter_class(parent=conv, config=conv.config)
        self.conv = conv
        self.sanitizer = self._exporter(conv.sanitize_preprocessors)
        after = [pp for pp in conv.autograde_preprocessors
                 if not (isinstance(pp, type) and issubclass(pp, Execute))]
        self.saver = self._exporter(after)
        self.execute_config = self._execute_config()
        try:
            self.limits: Limits = limits_from_course(self.execute_config)
        except UnsupportedSetting as err:
            raise CourseError(str(err)) from err
        with Gradebook(self.db_url, self.coursedir.course_id) as gb:
            try:
                found = gb.find_assignment(assignment)
            except MissingEntry as err:
                raise CourseError(f"no assignment {assignment!r} in the gradebook: run "
                                  f"`nbgrader generate_assignment {assignment}` first") from err
            #: The assignment's notebooks, in the order nbgrader grades them (sorted by name).
            self.notebook_ids: tuple[str, ...] = tuple(sorted(nb.name for nb in found.notebooks))
            points = {(nb.name, cell.name): float(cell.max_score)
                      for nb in found.notebooks for cell in nb.grade_cells}
            self.cell_ids = {nb.name: {cell.name for cell in nb.source_cells}
                             for nb in found.notebooks}
        if not self.notebook_ids:
            raise CourseError(f"{assignment} has no notebooks in the gradebook: run "
                              f"`nbgrader generate_assignment {assignment}` first")
        ordered = [(nb, gid) for nb in self.notebook_ids for gid in self._order(nb)
                   if (nb, gid) in points]
        ordered += sorted(set(points) - set(ordered))
        names = [gid for _, gid in ordered]
        #: (notebook, grade id) -> the CSV column: the grade id, or "notebook/grade id" when
        #: two notebooks of the assignment use the same one.
        self.columns = {(nb, gid): gid if names.count(gid) == 1 else f"{nb}/{gid}"
                        for nb, gid in ordered}
        self.max_points = {self.columns[key]: points[key] for key in ordered}
        self.version = self._source_version()

    def _order(self, notebook: str) -> list[str]:
        """Grade ids in the order of the source notebook (the CSV's column order)."""
        path = self.source_notebook_path(notebook)
        ids = []
        if path.exists():
            for cell in nbformat.read(path, as_version=4).cells:
                gid = cell.metadata.get("nbgrader", {}).get("grade_id")
                if gid:
                    ids.append(gid)
        return ids

    def _exporter(self, preprocessors: list[Any]) -> NotebookExporter:
        exporter = self.conv.exporter_class(parent=self.conv, config=self.conv.config)
        exporter._preprocessors = []
        for pp in preprocessors:
            exporter.register_preprocessor(pp)
        return exporter  # type: ignore[no-any-return]

    def _execute_config(self) -> dict[str, Any]:
        """The course's config for Execute and its bases, as plain data for the workers."""
        cfg = self.conv.config
        return {name: copy.deepcopy(dict(cfg[name])) for name in
                ("Execute", "ExecutePreprocessor", "NotebookClient") if name in cfg}

    def _source_version(self) -> str:
        """Hash of the assignment's source folder and the grader: a change regrades everyone."""
        digest = hashlib.sha256(GRADER_VERSION.encode())
        source = self._folder(self.coursedir.source_directory)
        for path in sorted(source.rglob("*")):
            if path.is_file() and ".ipynb_checkpoints" not in path.parts:
                digest.update(str(path.relative_to(source)).encode())
                digest.update(path.read_bytes())
        digest.update(json.dumps(self.execute_config, sort_keys=True, default=str).encode())
        return digest.hexdigest()

    # ---- paths -------------------------------------------------------------------------
    def _folder(self, kind: str, student: str = ".") -> Path:
        return Path(self.coursedir.format_path(kind, student, self.assignment))

    def source_notebook_path(self, notebook: str) -> Path:
        return self._folder(self.coursedir.source_directory) / f"{notebook}.ipynb"

    def release_notebook_path(self, notebook: str) -> Path:
        return self._folder(self.coursedir.release_directory) / f"{notebook}.ipynb"

    def submitted_path(self, student: str, notebook: str) -> str:
        return str(self._folder(self.coursedir.submitted_directory, student)
                   / f"{notebook}.ipynb")

    def dest(self, student: str) -> str:
        return str(self._folder(self.coursedir.autograded_directory, student))

    def autograded_path(self, student: str, notebook: str) -> Path:
        return Path(self.dest(student)) / f"{notebook}.ipynb"

    def feedback_folder(self, student: str) -> Path:
        return self._folder(self.coursedir.feedback_directory, student)

    def is_autograded(self, sub: Submission) -> bool:
        """Whether every notebook of `sub` has its autograded notebook (else: grade again)."""
        return all(self.autograded_path(sub.student, nb).exists() for nb in sub.notebooks)

    def key(self, sub: Submission) -> str:
        """Resume key: this submission's bytes and time under this version of the assignment."""
        return hashlib.sha256(f"{self.version}:{sub.sha256}:{sub.problem}".encode()).hexdigest()

    def _resources(self, student: str, notebook: str) -> dict[str, Any]:
        resources: dict[str, Any] = self.conv.init_single_notebook_resources(
            self.submitted_path(student, notebook))
        resources["metadata"] = {"path": self.dest(student), "name": notebook}
        resources["output_extension"] = ".ipynb"  # what the exporter sets, for notebooks we write
        return resources

    # ---- the learner's grades before this run ------------------------------------------------
    def snapshot(self, student: str) -> Earlier:
        """What the gradebook holds for `student` now (see `Earlier`)."""
        with Gradebook(self.db_url, self.coursedir.course_id) as gb:
            try:
                sub = gb.find_submission(self.assignment, student)
            except MissingEntry:
                return Earlier(student, False)
            notebooks = {nb.name: (nb.late_submission_penalty,
                                   {g.name: (g.auto_score, bool(g.needs_manual_grade))
                                    for g in nb.grades},
                                   {c.name: c.auto_comment for c in nb.comments})
                         for nb in sub.notebooks}
            return Earlier(student, True, sub.timestamp, notebooks)

    def put_back(self, earlier: Earlier) -> None:
        """Make the learner's submission in the gradebook what `earlier` says it was."""
        with Gradebook(self.db_url, self.coursedir.course_id) as gb:
            try:
                sub = gb.find_submission(self.assignment, earlier.student)
            except MissingEntry:
                return
            if not earlier.existed:
                gb.remove_submission(self.assignment, earlier.student)
                return
            sub.timestamp = earlier.timestamp
            for nb in sub.notebooks:
                penalty, grades, comments = earlier.notebooks.get(nb.name, (None, {}, {}))
                nb.late_submission_penalty = penalty
                for grade in nb.grades:
                    grade.auto_score, grade.needs_manual_grade = grades.get(
                        grade.name, (None, False))
                for comment in nb.comments:
                    comment.auto_comment = comments.get(comment.name)
            gb.db.commit()

    # ---- prepare -----------------------------------------------------------------------
    def prepare(self, sub: Submission) -> list[Prepared]:
        """nbgrader's steps before execution, for every notebook of `sub`; raises
        `NotGradable` for a notebook that is not this assignment's, and whatever nbgrader
        raises for one it refuses."""
        student = sub.student
        dest = self.dest(student)
        backup = self._backup(student)
        if os.path.exists(dest):  # kept until this submission's result is recorded (restore)
            shutil.rmtree(backup, ignore_errors=True)
            os.rename(dest, backup)
        self.coursedir.student_id = student
        self.conv.notebooks = [self.submitted_path(student, nb) for nb in sub.notebooks]
        # copies the submission's files and then the source's (not notebooks), sets the
        # submission's time, scores 0 the notebooks not submitted
        self.conv.init_assignment(self.assignment, student)
        # Unlike nbgrader, the half-done (unexecuted) notebooks are not written to autograded/:
        # if this run stops before the result is recorded, their absence makes the next run
        # regrade. The files beside them go to each notebook's run, as nbgrader leaves them.
        notebooks = {f"{nb}.ipynb" for nb in self.notebook_ids}
        extra = {}
        for root, _, files in os.walk(dest):
            for name in files:
                full = os.path.join(root, name)
                rel = os.path.relpath(full, dest)
                if rel not in notebooks and not os.path.islink(full):
                    extra[rel] = Path(full).read_bytes()
        return [self._prepare_notebook(sub, nb, extra) for nb in sub.notebooks]

    def _prepare_notebook(self, sub: Submission, notebook: str,
                          extra: dict[str, bytes]) -> Prepared:
        student = sub.student
        resources = self._resources(student, notebook)
        raw = nbformat.from_dict(without_surrogates(nbformat.read(
            self.submitted_path(student, notebook), as_version=4)))
        ids = {c.metadata.get("nbgrader", {}).get("grade_id") for c in raw.cells} - {None}
        if ids and not ids & self.cell_ids.get(notebook, set()):
            raise NotGradable(f"{notebook}.ipynb is not {self.assignment}'s notebook: none of its "
                              f"graded cells belongs to {self.assignment} (another assignment's "
                              "notebook?)")
        submitted, copied = _drop_duplicate_ids(_without_markers(raw))
        text, resources = self.sanitizer.from_notebook_node(submitted, resources)
        nb = nbformat.reads(text, as_version=4)
        notes = [f"the cell `{gid}` appeared more than once (a copied cell?): only its last copy "
                 "was graded as that cell" for gid in copied]
        notice = self.conv.config.get("OverwriteCells", {}).get(
            "missing_cell_notification", "This cell (id:{cell_id}) was missing")
        for grade_id in _restored_cells(nb, str(notice)):
            notes.append(f"the test cell `{grade_id}` was deleted from your notebook; it was "
                         "restored from the assignment and run")
        job = GradingJob(student, self.assignment, notebook, text, self.key(sub), dict(extra),
                         self.limits, hidden=(str(self.course),))
        return Prepared(job, notes)

    # ---- record ------------------------------------------------------------------------
    def record(self, result: JobResult, prepared: Prepared, annotate: Annotate,
               review: str = "", flagged_cell: int | None = None,
               ) -> tuple[list[str], float | None]:
        """Save one executed notebook's grades as nbgrader does. Returns the named mistakes and,
        when `flagged_cell` is given, the points earned in graded cells from there on."""
        student, notebook = result.student, result.notebook_id
        notes = [review, *prepared.notes] if review else prepared.notes
        nb = nbformat.from_dict(without_surrogates(
            nbformat.reads(result.notebook or prepared.job.notebook, as_version=4)))
        resources = self._resources(student, notebook)
        finished = result.outcome in ("completed", "timeout")
        hide_test_code(nb)
        sanitize_for_readers(nb)
        mistakes = named_mistakes(nb) if finished else []
        flagged = earned_after(nb, flagged_cell) if finished and flagged_cell else None
        annotate(nb, outcome_of_run(result.outcome), result.reason, notes, mistakes)
        if finished:
            text, resources = self.saver.from_notebook_node(nb, resources)
        else:  # a run that did not finish: its partial outputs are not scored
            self.zero(student, notebook)
            text = nbformat.writes(nb)
        self._write(student, notebook, text, resources)
        return mistakes, flagged

    def _backup(self, student: str) -> Path:
        dest = Path(self.dest(student))
        return dest.with_name(f".{dest.name}.before-this-run")

    def restore(self, student: str) -> None:
        """Put back what this run's `prepare` moved aside: nothing was graded, so the learner's
        earlier graded notebooks (and feedback source) stay as they were."""
        dest, backup = Path(self.dest(student)), self._backup(student)
        shutil.rmtree(dest, ignore_errors=True)
        if backup.exists():
            os.rename(backup, dest)

    def forget_backup(self, student: str) -> None:
        shutil.rmtree(self._backup(student), ignore_errors=True)

    def record_problem(self, sub: Submission) -> None:
        """A submission that cannot be graded: no score is written (an earlier one stays); the
        learner is known to the gradebook, and their earlier graded notebooks (if any) carry a
        note with the reason and how to resubmit (their feedback shows it)."""
        with Gradebook(self.db_url, self.coursedir.course_id) as gb:
            gb.update_or_create_student(sub.student)
        for notebook in self.notebook_ids:
            path = self.autograded_path(sub.student, notebook)
            if not path.exists() or path.is_symlink():
                continue
            nb = nbformat.read(path, as_version=4)
            nb.cells = [c for c in nb.cells if RESUBMIT_TAG not in c.metadata.get("tags", [])]
            nb.cells.insert(0, resubmit_cell(sub.problem or "", self.assignment,
                                             self.notebook_ids, earlier=True))
            mode = path.stat().st_mode
            path.chmod(0o644)
            nbformat.write(nb, path)
            path.chmod(mode & 0o777)

    def _write(self, student: str, notebook: str, text: str, resources: dict[str, Any]) -> None:
        dest = Path(self.dest(student))
        target = dest / f"{notebook}.ipynb"
        if target.exists():
            target.chmod(0o644)
            target.unlink()
        self.conv.write_single_notebook(text, resources)
        self.conv.set_permissions(self.assignment, student)

    def zero(self, student: str, notebook: str) -> None:
        """Score 0 on every grade of one notebook, as nbgrader does for a missing notebook."""
        with Gradebook(self.db_url, self.coursedir.course_id) as gb:
            gb.update_or_create_student(student)
            gb.update_or_create_submission(self.assignment, student)
            submission = gb.find_submission_notebook(notebook, self.assignment, student)
            for grade in submission.grades:
                grade.auto_score = 0
                grade.needs_manual_grade = False
            submission.late_submission_penalty = None
            gb.db.commit()

    # ---- read back ---------------------------------------------------------------------
    def scores(self) -> dict[str, dict[str, Any]]:
        """{student: {"score", "late_penalty", "max_score", "questions": {column: score},
        "needs_manual_grade"}} from the gradebook; "score" is what ``nbgrader export`` writes:
        the raw score minus nbgrader's late penalty, never below 0."""
        out: dict[str, dict[str, Any]] = {}
        with Gradebook(self.db_url, self.coursedir.course_id) as gb:
            try:
                submissions = gb.find_assignment(self.assignment).submissions
            except MissingEntry:
                return out
            for sub in submissions:
                questions: dict[str, float | None] = {}
                for nb in sub.notebooks:
                    for grade in nb.grades:
                        column = self.columns.get((nb.name, grade.name), grade.name)
                        questions[column] = grade.score
                penalty = float(sub.late_submission_penalty or 0.0)
                out[sub.student.id] = {"score": max(0.0, float(sub.score) - penalty),
                                       "late_penalty": penalty, "max_score": sub.max_score,
                                       "questions": questions,
                                       "needs_manual_grade": sub.needs_manual_grade}
        return out

    # ---- feedback ------------------------------------------------------------------
    def generate_feedback(self, students: Iterable[str],
                          problems: Mapping[str, str] | None = None) -> list[str]:
        """nbgrader's own HTML feedback for `students`, in this process (no per-learner start-up);
        a learner in `problems` (not gradable: student -> reason) with no graded notebook at all
        gets a page with the reason and how to resubmit. Returns the students whose feedback
        failed (nbgrader's log says why)."""
        from nbconvert.writers.files import FilesWriter
        from nbgrader.converters import GenerateFeedback, NbGraderException

        class OneExporter(GenerateFeedback):  # type: ignore[misc]
            """nbgrader's converter, but its HTML exporter (with the Jinja templates it compiles,
            ~0.5 s) and writer are built once for the class, not once per learner."""

            def start(self) -> None:
                self.init_notebooks()
                if not self.__dict__.get("built"):
                    self.built = True
                    self.writer = FilesWriter(parent=self, config=self.config)
                    self.exporter = self.exporter_class(parent=self, config=self.config)
                    for pp in self.preprocessors:
                        self.exporter.register_preprocessor(pp)
                here = os.getcwd()
                os.chdir(self.coursedir.root)
                try:
                    self.convert_notebooks()
                finally:
                    os.chdir(here)

        problems = problems or {}
        conv = OneExporter(coursedir=self.coursedir, parent=self.app)
        conv.force = True
        failed = []
        try:
            for student in students:
                if not any(self.autograded_path(student, nb).exists()
                           for nb in self.notebook_ids):
                    if student in problems:
                        self._note_feedback(student, problems[student])
                    continue
                self.coursedir.student_id = student
                try:
                    conv.start()
                except (NbGraderException, Exception):  # one learner's feedback never stops all
                    self.app.log.exception("feedback for %s failed", student)
                    failed.append(student)
        finally:
            self.coursedir.student_id = "*"
        return failed

    def _note_feedback(self, student: str, reason: str) -> None:
        folder = self.feedback_folder(student)
        folder.mkdir(parents=True, exist_ok=True)
        page = note_page(resubmit_cell(reason, self.assignment, self.notebook_ids,
                                       earlier=False))
        (folder / f"{self.notebook_ids[0]}.html").write_text(page, encoding="utf-8")
        submitted = self._folder(self.coursedir.submitted_directory, student)
        for name in ("timestamp.txt", "submission_secret.txt"):  # as generate_feedback copies
            if (submitted / name).is_file() and not (submitted / name).is_symlink():
                shutil.copyfile(submitted / name, folder / name)  # (release_feedback reads them)

    def release_feedback(self, students: Iterable[str],
                         ) -> tuple[list[str], list[str], list[str]]:
        """nbgrader's ``release_feedback`` for those of `students` whose submission came through
        nbgrader's exchange (``nbgrader submit`` wrote a ``submission_secret.txt``, by which
        the learner's Assignment List finds the feedback); returns (released, failed, without
        feedback to release). LMS submissions have no such secret: their feedback goes back
        through the LMS."""
        from nbgrader.auth import Authenticator
        from nbgrader.exchange import ExchangeFactory

        factory = ExchangeFactory(parent=self.app)
        authenticator = Authenticator(parent=self.app)
        released, failed, missing = [], [], []
        try:
            for student in students:
                secret = self._folder(self.coursedir.submitted_directory, student) / \
                    "submission_secret.txt"
                if not secret.is_file():
                    continue
                if not list(self.feedback_folder(student).glob("*.html")):
                    missing.append(student)
                    continue
                self.coursedir.student_id = student
                try:
                    factory.ReleaseFeedback(coursedir=self.coursedir,
                                            authenticator=authenticator, parent=self.app).start()
                except Exception:  # one learner's release never stops the others'
                    self.app.log.exception("releasing the feedback of %s failed", student)
                    failed.append(student)
                else:
                    released.append(student)
        finally:
            self.coursedir.student_id = "*"
        return released, failed, missing


def earned_after(nb: nbformat.NotebookNode, cell_number: int) -> float:
    """Points the graded cells after `cell_number` (1-based) earned, as nbgrader scores them."""
    from nbgrader.utils import determine_grade

    earned = 0.0
    for index, cell in enumerate(nb.cells):
        if index + 1 >= cell_number and is_grade(cell):
            points, _ = determine_grade(cell)
            earned += float(points or 0)
    return earned


def named_mistakes(nb: nbformat.NotebookNode) -> list[str]:
    """The failure messages of the grade cells ("AssertionError: the calls ran one after ...")."""
    found = []
    for cell in nb.cells:
        if cell.cell_type != "code" or not is_grade(cell):
            continue
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                value = str(out.get("evalue", "")).strip().splitlines()
                text = value[0] if value else ""
                ename = str(out.get("ename", "Error"))
                if ename in ("GradingFailure", "AssertionError") and text:
                    found.append(text)  # the test's own sentence names the mistake
                else:
                    found.append(f"{ename}: {text}" if text else ename)
    return found
