"""Collect: find every learner's submission, check it, and normalise it into nbgrader's layout.

Two inputs: nbgrader's own ``submitted/<student>/<assignment>/`` folders, or a folder as an LMS
download gives it (Canvas's and Moodle's real naming, or ``<student>.ipynb`` / ``<student>.zip``:
`autograder.lms.naming` says whose file each entry is, keyed by the LMS's user id, and refuses
collisions). Downloads are copied into ``submitted/`` (inside the course, never elsewhere) so
every later step and nbgrader's own commands see one layout; submission times fetched from the
LMS become nbgrader's ``timestamp.txt`` (`autograder.lms.times`). A submission that cannot be
graded is still returned, with ``problem`` set to a sentence the learner can act on; it gets no
score, and that reason.

An assignment may have several notebooks (nbgrader's own example course does). A submission is
gradable when every notebook it has is readable; a notebook it lacks scores 0 as nbgrader scores
it, unless the submission holds other notebooks (then the name is probably wrong: not gradable).

Written by hand because nbgrader's ZipCollect neither checks zip members nor reports per learner.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import stat
import zipfile
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import nbformat

from autograder.lms.naming import (
    STUDENT_ID,
    DownloadPlan,
    LearnerFiles,
    Roster,
    list_download,
    plan_download,
)
from autograder.lms.times import nbgrader_timestamp, read_times
from autograder.text import printable

__all__ = ["STUDENT_ID", "Collected", "Imported", "Submission", "check_folder", "collect",
           "import_downloads"]

MAX_ZIP_BYTES = 50_000_000  # uncompressed; a class's notebooks are far smaller
MAX_NOTEBOOK_BYTES = 20_000_000
#: Files nbgrader writes into a submission itself: a learner's upload never brings its own (a
#: timestamp.txt of the learner's choosing would decide whether they were late).
RESERVED = ("timestamp.txt", "submission_secret.txt")


@dataclass
class Submission:
    """One learner's submission of one assignment, checked."""

    student: str
    assignment: str
    folder: Path  # submitted/<student>/<assignment>
    notebooks: tuple[str, ...] = ()  # the assignment's notebooks (ids) to grade, when gradable
    problem: str | None = None  # why it cannot be graded (learner-facing), None if fine
    sha256: str = ""  # of the notebooks' bytes and the submission time ("" if unreadable)
    absent: tuple[str, ...] = ()  # notebooks of the assignment not submitted: scored 0
    notes: tuple[str, ...] = ()  # learner-facing remarks from collecting
    timestamp: str = ""  # timestamp.txt as nbgrader reads it, "" when there is none

    def __repr__(self) -> str:
        state = f"problem={self.problem!r}" if self.problem else f"sha256={self.sha256[:10]}"
        return f"Submission({self.student}/{self.assignment}, {state})"


def _check_notebook(path: Path, name: str) -> tuple[str | None, str]:
    """Return (problem, digest) for the notebook file at `path`."""
    if path.is_symlink():
        return f"{name} is a symbolic link, not a notebook file", ""
    if not path.is_file():
        return f"{name} is not a regular file", ""
    if path.stat().st_size > MAX_NOTEBOOK_BYTES:
        return f"{name} is larger than {MAX_NOTEBOOK_BYTES // 1_000_000} MB", ""
    data = path.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    try:
        raw = json.loads(data)
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        where = (f" (line {err.lineno}, column {err.colno})"
                 if isinstance(err, json.JSONDecodeError) else "")
        return (f"{name} is not valid JSON{where}: it was probably truncated or edited outside "
                "Jupyter", digest)
    if isinstance(raw, dict) and isinstance(raw.get("nbformat"), int) and raw["nbformat"] < 4:
        return (f"{name} is in an old notebook format (nbformat {raw['nbformat']}): open it in "
                "JupyterLab, save it and submit again", digest)
    if not isinstance(raw, dict) or "cells" not in raw:
        return f"{name} is JSON but not a Jupyter notebook (it has no cells)", digest
    try:
        nbformat.reads(data.decode("utf-8"), as_version=4)
    except Exception as err:  # nbformat raises several kinds for malformed notebooks
        return f"{name} is not a valid Jupyter notebook ({type(err).__name__})", digest
    return None, digest


def _inside(root: Path, path: Path) -> bool:
    return os.path.commonpath([root.resolve(), path.resolve()]) == str(root.resolve())


def _read_timestamp(folder: Path) -> tuple[str, str | None]:
    """(timestamp.txt's text, problem): nbgrader stops on a time it cannot read, so it is
    checked here, where one learner's file stops only that learner."""
    path = folder / "timestamp.txt"
    if not path.exists():
        return "", None
    text = path.read_text(encoding="utf-8", errors="replace").strip()
    from dateutil import parser  # type: ignore[import-untyped]  # nbgrader reads it so

    try:
        parser.parse(" ".join(text.split(" ")[:2]) if text.count(" ") == 2 else text)
    except (ValueError, OverflowError):
        return text, (f"the submission's timestamp.txt ({printable(text, 40)!r}) is not a time: "
                      "submit again through the course's exchange or LMS")
    return text, None


def check_folder(course: Path, student: str, assignment: str, folder: Path,
                 notebook_ids: Sequence[str], notes: Sequence[str] = ()) -> Submission:
    """Check a `submitted/<student>/<assignment>` folder against the assignment's notebooks."""
    sub = Submission(student, assignment, folder, notes=tuple(notes))
    if not STUDENT_ID.match(student):
        sub.problem = f"the student id {student!r} has characters a course folder cannot use"
        return sub
    if folder.is_symlink() or not _inside(course, folder):
        sub.problem = "the submission folder is a symbolic link"
        return sub
    sub.problem = _special_entry(folder)
    if sub.problem:
        return sub
    wanted = [f"{nb}.ipynb" for nb in notebook_ids]
    present = [nb for nb in notebook_ids
               if (folder / f"{nb}.ipynb").exists() or (folder / f"{nb}.ipynb").is_symlink()]
    absent = [nb for nb in notebook_ids if nb not in present]
    others = sorted(p.name for p in folder.glob("*.ipynb") if p.name not in wanted)
    if absent and (not present or others):
        found = f" (found: {', '.join(others)})" if others else ""
        missing = " or ".join(f"{nb}.ipynb" for nb in (absent if present else notebook_ids))
        sub.problem = f"no notebook named {missing}{found}"
        return sub
    problems, digests = [], []
    for nb in present:
        problem, digest = _check_notebook(folder / f"{nb}.ipynb", f"{nb}.ipynb")
        if problem:
            problems.append(problem)
        digests.append(f"{nb}:{digest}")
    timestamp, late_problem = _read_timestamp(folder)
    if late_problem:
        problems.append(late_problem)
    if problems:
        sub.problem = "; ".join(problems)
        return sub
    sub.notebooks, sub.absent, sub.timestamp = tuple(present), tuple(absent), timestamp
    sub.sha256 = hashlib.sha256("\n".join([*digests, f"absent:{','.join(absent)}",
                                           f"time:{timestamp}"]).encode()).hexdigest()
    return sub


def _special_entry(folder: Path) -> str | None:
    """Why a submission folder cannot be used as it is: it may hold only regular files and
    folders (nbgrader copies the folder as root, following links: a link would hand the learner
    any file the grader can read), with names that are valid UTF-8. None when it is fine."""
    for root, dirs, files in os.walk(folder, followlinks=False):
        for entry in [*dirs, *files]:
            path = Path(root) / entry
            shown = printable(str(path.relative_to(folder)), 80)
            try:
                entry.encode("utf-8")
            except UnicodeEncodeError:
                return (f"the submission has a file whose name is not valid text ({shown}): "
                        "rename it and submit again")
            mode = path.lstat().st_mode
            if stat.S_ISLNK(mode):
                return f"the submission holds a symbolic link ({shown}); only files are graded"
            if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
                return (f"the submission holds something that is not a file ({shown}: a device, "
                        "pipe or socket); only files are graded")
    return None


def _zip_problem(info: zipfile.ZipInfo) -> str | None:
    mode = info.external_attr >> 16
    member = PurePosixPath(info.filename.replace("\\", "/"))
    if member.is_absolute() or ".." in member.parts or re.match(r"^[A-Za-z]:", info.filename):
        return f"the zip file has an unsafe member {info.filename!r} (outside its folder)"
    if stat.S_ISLNK(mode):
        return f"the zip file has a symbolic link {info.filename!r}"
    return None


def _import_zip(zpath: Path, dest: Path, notebook_names: Sequence[str]) -> str | None:
    """Extract the folder holding the assignment's notebooks from a learner's zip into `dest`."""
    try:
        with zipfile.ZipFile(zpath) as zf:
            infos = [i for i in zf.infolist() if not i.is_dir()
                     and "__MACOSX" not in i.filename]
            for info in infos:
                problem = _zip_problem(info)
                if problem:
                    return problem
            if sum(i.file_size for i in infos) > MAX_ZIP_BYTES:
                return f"the zip file unpacks to more than {MAX_ZIP_BYTES // 1_000_000} MB"
            hits = [i for i in infos if PurePosixPath(i.filename).name in notebook_names]
            if not hits:
                others = sorted({PurePosixPath(i.filename).name for i in infos
                                 if i.filename.endswith(".ipynb")})
                found = f" (found: {', '.join(others)})" if others else ""
                return f"no notebook named {' or '.join(notebook_names)}{found}"
            base = PurePosixPath(min(hits, key=lambda i: len(i.filename)).filename).parent
            dest.mkdir(parents=True, exist_ok=True)
            for info in infos:
                member = PurePosixPath(info.filename)
                if base.parts and member.parts[:len(base.parts)] != base.parts:
                    continue
                inner = member.parts[len(base.parts):]
                if len(inner) == 1 and inner[0] in RESERVED:
                    continue  # nbgrader's own files: never the learner's
                target = dest.joinpath(*inner)
                if not _inside(dest, target):
                    return f"the zip file has an unsafe member {info.filename!r}"
                target.parent.mkdir(parents=True, exist_ok=True)
                with zf.open(info) as src, open(target, "wb") as out:
                    shutil.copyfileobj(src, out)
    except zipfile.BadZipFile:
        return "the zip file is damaged or not a zip file"
    except RuntimeError as err:  # zipfile's word for an encrypted member
        if "encrypted" in str(err) or "password" in str(err):
            return "the zip file is protected by a password: submit it without one"
        return "the zip file could not be read"
    except UnicodeDecodeError:
        return "the zip file has a member whose name is not valid text"
    except (NotImplementedError, EOFError, OSError, ValueError, zlib.error):
        return "the zip file is damaged or uses a compression the grader cannot read"
    return None


@dataclass
class Imported:
    """What an LMS download brought: the plan (whose file is what) and what became of it."""

    plan: DownloadPlan
    problems: dict[str, str] = field(default_factory=dict)  # student -> why nothing was taken
    notes: dict[str, list[str]] = field(default_factory=dict)  # student -> learner-facing notes
    untimed_late: list[str] = field(default_factory=list)  # marked LATE, with no known time
    timed: int = 0  # learners whose submission time came with the download

    def summary(self) -> str:
        """The download's counts and refusals (they add up), then what has no time."""
        text = self.plan.summary()
        if self.timed:
            text += f"\n  submission times from the LMS for {self.timed} learners"
        if self.untimed_late:
            text += (f"\n  {len(self.untimed_late)} marked LATE by the LMS have no submission "
                     "time, so no late penalty applies to them (fetch the submissions with "
                     "`python -m autograder fetch` for their times): "
                     + ", ".join(self.untimed_late))
        return text

    def __repr__(self) -> str:
        return f"Imported({self.plan!r}, {len(self.problems)} refused learners)"


def _same_tree(a: Path, b: Path) -> bool:
    def files(root: Path) -> dict[str, bytes]:
        return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*")
                if p.is_file() and not p.is_symlink()}
    return b.is_dir() and files(a) == files(b)


def _stage(download: Path, learner: LearnerFiles, staging: Path,
           notebook_names: Sequence[str]) -> tuple[str | None, list[str]]:
    """Copy one learner's planned files into `staging`: (problem, notes)."""
    notes: list[str] = []
    for planned in learner.files:
        source = download / planned.name.path
        if planned.kind == "archive":
            problem = _import_zip(source, staging, notebook_names)
            if problem:
                return problem, notes
            continue
        if planned.target in RESERVED:
            notes.append(f"the file {printable(planned.target)} you uploaded was left out: the "
                         "grader writes it itself")
            continue
        target = staging / planned.target
        if not _inside(staging, target):
            return f"the file name {printable(planned.target)!r} points outside its folder", notes
        if source.is_symlink() or not source.is_file():
            return f"{printable(planned.name.path)} is not a regular file", notes
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
    return None, notes


def import_downloads(course: Path, downloads: Path, assignment: str,
                     notebook_ids: Sequence[str], roster: Roster | None = None) -> Imported:
    """Copy an LMS download into `submitted/`, one folder per learner (by LMS user id), with the
    learner's submission time when the download has it. One learner's upload never stops the
    others' import: whatever goes wrong is that learner's problem, with the reason."""
    names = [f"{nb}.ipynb" for nb in notebook_ids]
    plan = plan_download(list_download(downloads), notebook_ids, roster)
    imported = Imported(plan)
    times = read_times(downloads)
    for learner in plan.learners:
        student = learner.student_id
        if not learner.files:
            imported.problems[student] = learner.reason or "nothing in the download to grade"
            continue
        if learner.refusals:
            imported.notes.setdefault(student, []).append(f"not taken: {learner.reason}")
        folder = course / "submitted" / student / assignment
        staging = folder.with_name(f".{assignment}.incoming")
        try:
            if not _inside(course / "submitted", folder):
                raise ValueError("the student id would point outside the course")
            shutil.rmtree(staging, ignore_errors=True)
            staging.mkdir(parents=True)
            problem, notes = _stage(downloads, learner, staging, names)
        except Exception as err:  # one learner's upload never stops the others' import
            problem, notes = f"the upload could not be read ({type(err).__name__})", []
        imported.notes.setdefault(student, []).extend(notes)
        if problem:
            imported.problems[student] = problem
            shutil.rmtree(staging, ignore_errors=True)
            continue
        when = times.get(learner.key)
        if when is not None:
            (staging / "timestamp.txt").write_text(nbgrader_timestamp(when), encoding="utf-8")
            imported.timed += 1
        elif learner.late:
            imported.untimed_late.append(student)
        # Replace the learner's folder only when something changed: keeps resume cheap.
        if _same_tree(staging, folder):
            shutil.rmtree(staging)
            continue
        shutil.rmtree(folder, ignore_errors=True)
        staging.rename(folder)
    return imported


@dataclass
class Collected:
    """Every submission of an assignment, and what an LMS download brought (if one was given)."""

    submissions: list[Submission]
    imported: Imported | None = None


def collect(course: Path, assignment: str, notebook_ids: Sequence[str],
            downloads: Path | None = None, roster: Roster | None = None) -> Collected:
    """Every submission of `assignment`, in student order, each checked."""
    refused: dict[str, str] = {}
    imported = None
    if downloads is not None:
        downloads = downloads.resolve()
        layout = [p for p in downloads.glob(f"*/{assignment}") if p.is_dir()]
        if layout and downloads != (course / "submitted").resolve():
            # An nbgrader layout elsewhere: import each learner's folder.
            for src in layout:
                student = src.parent.name
                if not STUDENT_ID.match(student) or src.is_symlink():
                    refused[student] = "the submission folder name or type is not allowed"
                    continue
                dest = course / "submitted" / student / assignment
                shutil.rmtree(dest, ignore_errors=True)
                shutil.copytree(src, dest, symlinks=True)
        elif not layout:
            imported = import_downloads(course, downloads, assignment, notebook_ids, roster)
            refused = imported.problems
    notes = imported.notes if imported else {}
    subs: dict[str, Submission] = {}
    submitted = course / "submitted"
    for folder in sorted(submitted.glob(f"*/{assignment}")) if submitted.exists() else []:
        student = folder.parent.name
        if folder.parent.name.startswith("."):
            continue
        try:
            subs[student] = check_folder(course, student, assignment, folder, notebook_ids,
                                         notes.get(student, ()))
        except (OSError, ValueError) as err:  # one learner's files never stop the class
            subs[student] = Submission(student, assignment, folder, problem=(
                f"the submission could not be read ({type(err).__name__})"))
    for student, problem in refused.items():
        if student in subs and subs[student].problem is None and STUDENT_ID.match(student):
            continue  # an earlier, good submission stays
        subs[student] = Submission(student, assignment, submitted / student / assignment,
                                   problem=problem)
    return Collected([subs[s] for s in sorted(subs)], imported)
