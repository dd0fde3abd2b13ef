"""Export: the files an LMS's gradebook import takes as they are, one row per learner.

Scores arrive final (nbgrader's late penalty already applied, see `autograder.lms.grades`); a
learner that could not be graded has no score, written as an empty cell, never 0, so the LMS
never receives a grade the learner's code did not earn. The layouts, from each LMS's importer:

- **Canvas** gradebook import (``app/models/gradebook_importer.rb``): a header row whose first
  columns are ``Student, ID, SIS User ID, SIS Login ID, Section`` (the importer requires
  "Student" and "ID" first and "Section" as the last learner column), then one column per
  assignment titled ``<title> (<Canvas assignment id>)``, the id in parentheses being what the
  importer matches (``Assignment.title_and_id``). Learners are matched by the ``ID`` column
  (Canvas's user id) first. The optional ``Points Possible`` row is left out on purpose: the
  importer copies it onto the assignment (``process_pp``), and nbgrader's maximum must not change
  Canvas's. Note: an empty cell where Canvas already holds a score shows as a change to "no
  grade" in Canvas's import preview, where it can be left out.
- **Moodle** assignment grading worksheet ("Upload grading worksheet",
  ``mod/assign/feedback/offline``): columns ``Identifier`` (``Participant <id>``, the id of the
  download's file names), ``Grade`` and ``Last modified (grade)`` are required by the importer;
  ``Full name`` and ``Maximum Grade`` are for the reader. Moodle skips a row whose grade is empty
  (an earlier grade stays) and, unless "Allow updating records that have been modified more
  recently in Moodle" is ticked, a row whose grade Moodle changed after its "Last modified".

Text cells (names, sections, SIS ids) are learner-chosen: one that starts with ``=``, ``+``,
``-``, ``@``, a tab or a carriage return is prefixed with ``'`` so a spreadsheet shows it as text
instead of running it as a formula. The plain CSV is ``autograder.grading.export``'s.

Written by hand: ``csv`` writes the cells; no library knows these two import layouts.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from autograder.text import neutralise

__all__ = ["Export", "ExportRow", "canvas_csv", "moodle_csv", "points", "write"]

CANVAS_COLUMNS = ("Student", "ID", "SIS User ID", "SIS Login ID", "Section")
MOODLE_COLUMNS = ("Identifier", "Full name", "Grade", "Maximum Grade", "Last modified (grade)")


@dataclass(frozen=True)
class ExportRow:
    """One learner's line in an LMS import file."""

    student_id: str  # nbgrader's
    lms_user_id: str | None  # the LMS's id for this learner (Canvas user id, Moodle participant)
    score: float | None  # final: late penalty applied; None = could not be graded
    max_score: float
    name: str = ""
    sis_user_id: str = ""
    sis_login_id: str = ""
    section: str = ""


@dataclass(frozen=True)
class Export:
    """A rendered import file and the learners it could not name for the LMS."""

    text: str
    rows: int
    unmatched: tuple[str, ...] = ()  # student ids with no LMS id of this LMS: not in the file

    def __repr__(self) -> str:
        return f"Export({self.rows} rows, {len(self.unmatched)} unmatched)"


def points(value: float) -> str:
    """A score as the LMS reads it: ``3``, ``2.5``, at most 4 decimals; never a formula."""
    rounded = round(float(value), 4)
    if rounded < 0:
        raise ValueError(f"a score is never negative (got {value})")
    return str(int(rounded)) if rounded.is_integer() else str(rounded)


def _render(header: Iterable[str], body: Iterable[Iterable[str]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(body)
    return buffer.getvalue()


def _ordered(rows: Iterable[ExportRow]) -> list[ExportRow]:
    return sorted(rows, key=lambda r: r.student_id)


def canvas_csv(rows: Iterable[ExportRow], *, title: str, assignment_id: int) -> Export:
    """Canvas's gradebook import file for one assignment (see the module doc for the layout)."""
    if assignment_id <= 0:
        raise ValueError("the Canvas assignment id is the number in the assignment's address "
                         "(…/assignments/12345)")
    column = f"{neutralise(title.strip()) or 'assignment'} ({assignment_id})"
    body, unmatched = [], []
    for row in _ordered(rows):
        if not (row.lms_user_id and row.lms_user_id.isdigit()):
            unmatched.append(row.student_id)
            continue
        grade = "" if row.score is None else points(row.score)
        body.append([neutralise(row.name or row.student_id), row.lms_user_id,
                     neutralise(row.sis_user_id), neutralise(row.sis_login_id),
                     neutralise(row.section), grade])
    return Export(_render([*CANVAS_COLUMNS, column], body), len(body), tuple(unmatched))


def moodle_csv(rows: Iterable[ExportRow], *, exported_at: datetime) -> Export:
    """Moodle's grading worksheet for one assignment (see the module doc for the layout).

    `exported_at` (timezone-aware) goes into "Last modified (grade)": Moodle keeps a grade
    changed in Moodle after it unless told to overwrite.
    """
    if exported_at.tzinfo is None:
        raise ValueError("exported_at needs a timezone: Moodle compares it with its own times")
    stamp = exported_at.isoformat(timespec="seconds")
    body, unmatched = [], []
    for row in _ordered(rows):
        if not (row.lms_user_id and row.lms_user_id.isdigit()):
            unmatched.append(row.student_id)
            continue
        grade = "" if row.score is None else points(row.score)
        body.append([f"Participant {row.lms_user_id}", neutralise(row.name or row.student_id),
                     grade, points(row.max_score), stamp])
    return Export(_render(MOODLE_COLUMNS, body), len(body), tuple(unmatched))


def write(path: Path, export: Export) -> None:
    """Write the file whole (UTF-8) or not at all: a reader never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(export.text.encode("utf-8"))
    os.replace(tmp, path)
