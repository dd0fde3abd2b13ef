"""Grades: what an LMS receives for each learner, computed exactly as ``nbgrader export`` does.

``nbgrader export`` (its ``CsvExportPlugin``) writes ``score = max(0.0, submission.score -
submission.late_submission_penalty)``: the gradebook keeps the raw score and the penalty apart
(the penalty is the sum over the assignment's notebooks), so the export subtracts it and never
goes below 0. This module does the same, and adds what nbgrader has no place for: a learner whose
grading outcome is ``not-gradable`` or ``machinery-failure`` (``autograder.grading.outcome``)
gets no score at all, so the LMS receives an empty cell rather than a 0 the learner's code did
not earn. Learners that nbgrader knows but who submitted nothing are left out (nbgrader's own
export writes 0 for them; the LMS already shows them as missing).

`final_rows` is pure; `read_gradebook` is the one place that opens nbgrader's gradebook, read
only, through ``nbgrader.api`` (never by SQL of our own: the schema is nbgrader's).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from autograder.grading.errors import CourseError
from autograder.grading.outcome import Outcome
from autograder.grading.records import GradeRecord
from autograder.lms.export import ExportRow
from autograder.lms.naming import LMS, Roster, learner_of

__all__ = ["NO_SCORE", "ClassScores", "SubmissionScore", "final_rows", "read_gradebook"]

#: Outcomes that never become a score in an LMS: the learner could not be graded.
NO_SCORE: frozenset[Outcome] = frozenset({"not-gradable", "machinery-failure"})


@dataclass(frozen=True)
class SubmissionScore:
    """One learner's submission as nbgrader's gradebook holds it."""

    student_id: str
    raw: float  # nbgrader's submission.score: the sum of every grade, before the penalty
    penalty: float  # nbgrader's submission.late_submission_penalty (0 when on time)
    max_score: float
    timestamp: datetime | None = None
    questions: Mapping[str, float | None] = field(default_factory=dict)
    needs_manual_grade: bool = False

    @property
    def final(self) -> float:
        """The score ``nbgrader export`` writes: raw minus the late penalty, at least 0."""
        return max(0.0, self.raw - self.penalty)


@dataclass(frozen=True)
class ClassScores:
    """An assignment's scores: per learner, its maximum and its grade ids in gradebook order."""

    assignment: str
    max_score: float
    grade_ids: tuple[str, ...]
    submissions: Mapping[str, SubmissionScore]
    feedback: Mapping[str, Path] = field(default_factory=dict)  # nbgrader's feedback folders

    def feedback_files(self, student: str) -> tuple[Path, ...]:
        """The learner's HTML feedback (``generate_feedback``'s files), none if not generated."""
        folder = self.feedback.get(student)
        if folder is None or not folder.is_dir():
            return ()
        return tuple(sorted(p for p in folder.glob("*.html")
                            if p.is_file() and not p.is_symlink()))


def final_rows(scores: ClassScores, records: Mapping[str, GradeRecord], *, lms: LMS | None,
               roster: Roster | None = None) -> list[ExportRow]:
    """One `ExportRow` per learner with a submission or a grading record, in student order.

    The LMS id of a learner is the roster's (when it names them for `lms`), else the one their
    derived student id carries (``canvas-111`` -> 111); with neither, it is None and the export
    lists the learner as unmatched.
    """
    rows = []
    for student in sorted(set(scores.submissions) | set(records)):
        sub = scores.submissions.get(student)
        record = records.get(student)
        graded = sub is not None and (record is None or record.outcome not in NO_SCORE)
        learner = roster.by_student(student) if roster else None
        key = learner.key if learner else learner_of(student)
        rows.append(ExportRow(
            student_id=student,
            lms_user_id=key.user_id if key is not None and key.lms == lms else None,
            score=sub.final if graded and sub is not None else None,
            max_score=sub.max_score if sub is not None else scores.max_score,
            name=learner.name if learner else "",
            sis_user_id=learner.sis_user_id if learner else "",
            sis_login_id=learner.sis_login_id if learner else "",
            section=learner.section if learner else ""))
    return rows


def _config(course: Path) -> Any:
    from traitlets.config.loader import PyFileConfigLoader

    if not (course / "nbgrader_config.py").exists():
        raise CourseError(f"no nbgrader_config.py in {course}: run from the course root or pass "
                          "--course")
    return PyFileConfigLoader("nbgrader_config.py", path=str(course)).load_config()


def read_gradebook(course: Path, assignment: str) -> ClassScores:
    """The assignment's scores from the course's nbgrader gradebook (opened read only).

    Raises `CourseError` when the course has no gradebook or no such assignment: reading never
    creates a gradebook (``nbgrader.api.Gradebook`` would create an empty one).
    """
    from nbgrader.api import Gradebook, MissingEntry
    from nbgrader.coursedir import CourseDirectory

    course = course.resolve()
    coursedir = CourseDirectory(config=_config(course), root=str(course))
    db_url = str(coursedir.db_url)
    if db_url.startswith("sqlite:///") and not Path(db_url.removeprefix("sqlite:///")).exists():
        raise CourseError(f"no gradebook at {db_url.removeprefix('sqlite:///')}: grade the class "
                          "first")
    with Gradebook(db_url, coursedir.course_id) as gb:
        try:
            found = gb.find_assignment(assignment)
        except MissingEntry as err:
            raise CourseError(f"no assignment {assignment!r} in the gradebook") from err
        cells = [(nb.name, cell.name) for nb in sorted(found.notebooks, key=lambda n: n.name)
                 for cell in nb.grade_cells]
        names = [gid for _, gid in cells]
        # the grade command's columns: a grade id, or "notebook/grade id" when two notebooks
        # of the assignment use the same one
        column = {(nb, gid): gid if names.count(gid) == 1 else f"{nb}/{gid}" for nb, gid in cells}
        grade_ids = tuple(column[c] for c in cells)
        submissions = {}
        for sub in found.submissions:
            questions = {column.get((nb.name, grade.name), grade.name):
                         (None if grade.score is None else float(grade.score))
                         for nb in sub.notebooks for grade in nb.grades}
            submissions[sub.student.id] = SubmissionScore(
                student_id=sub.student.id, raw=float(sub.score),
                penalty=float(sub.late_submission_penalty or 0.0),
                max_score=float(sub.max_score), timestamp=sub.timestamp, questions=questions,
                needs_manual_grade=bool(sub.needs_manual_grade))
        # every learner the gradebook knows: one whose latest submission was not gradable has
        # no submission there, and still has feedback (why, and how to resubmit)
        feedback = {student: Path(coursedir.format_path(coursedir.feedback_directory, student,
                                                        assignment))
                    for student in [s.id for s in gb.students]}
        return ClassScores(assignment, float(found.max_score), grade_ids, submissions, feedback)
