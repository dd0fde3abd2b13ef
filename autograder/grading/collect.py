"""Collect: find every learner's submission, check it, and normalise it into nbgrader's layout.

Two inputs: nbgrader's own ``submitted/<student>/<assignment>/`` folders, or a folder as an LMS
download gives it (``<student>.ipynb``, ``<student>.zip``, Canvas-style ``<student>_<...>.zip``).
Downloads are copied into ``submitted/`` (inside the course, never elsewhere) so every later step
and nbgrader's own commands see one layout. A submission that cannot be graded is still returned,
with ``problem`` set to a sentence the learner can act on; it is graded 0 with that reason.

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
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import nbformat

from autograder.text import printable

STUDENT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.@+-]{0,99}$")
MAX_ZIP_BYTES = 50_000_000  # uncompressed; a class's notebooks are far smaller
MAX_NOTEBOOK_BYTES = 20_000_000


@dataclass
class Submission:
    """One learner's submission of one assignment, checked."""

    student: str
    assignment: str
    folder: Path  # submitted/<student>/<assignment>
    notebook: Path | None  # the notebook to grade, None if there is none to grade
    problem: str | None = None  # why it cannot be graded (learner-facing), None if fine
    sha256: str = ""  # of the notebook bytes ("" if unreadable)

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


def check_folder(course: Path, student: str, assignment: str, folder: Path,
                 notebook_id: str) -> Submission:
    """Check a `submitted/<student>/<assignment>` folder."""
    name = f"{notebook_id}.ipynb"
    sub = Submission(student, assignment, folder, None)
    if not STUDENT_ID.match(student):
        sub.problem = f"the student id {student!r} has characters a course folder cannot use"
        return sub
    if folder.is_symlink() or not _inside(course, folder):
        sub.problem = "the submission folder is a symbolic link"
        return sub
    sub.problem = _special_entry(folder)
    if sub.problem:
        return sub
    path = folder / name
    if not path.exists() and not path.is_symlink():
        others = sorted(p.name for p in folder.glob("*.ipynb"))
        found = f" (found: {', '.join(others)})" if others else ""
        sub.problem = f"no notebook named {name}{found}"
        return sub
    sub.problem, sub.sha256 = _check_notebook(path, name)
    if sub.problem is None:
        sub.notebook = path
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


def _import_zip(zpath: Path, dest: Path, notebook_name: str) -> str | None:
    """Extract the folder holding `notebook_name` from a learner's zip into `dest`."""
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
            hits = [i for i in infos if PurePosixPath(i.filename).name == notebook_name]
            if not hits:
                others = sorted({PurePosixPath(i.filename).name for i in infos
                                 if i.filename.endswith(".ipynb")})
                found = f" (found: {', '.join(others)})" if others else ""
                return f"no notebook named {notebook_name}{found}"
            base = PurePosixPath(min(hits, key=lambda i: len(i.filename)).filename).parent
            dest.mkdir(parents=True, exist_ok=True)
            for info in infos:
                member = PurePosixPath(info.filename)
                if base.parts and member.parts[:len(base.parts)] != base.parts:
                    continue
                target = dest.joinpath(*member.parts[len(base.parts):])
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


def _student_of(path: Path) -> str:
    """LMS file name -> student id: `<student>.ipynb`, `<student>.zip`, `<student>_<...>.zip`."""
    return path.stem.split("_", 1)[0]


def import_downloads(course: Path, downloads: Path, assignment: str,
                     notebook_id: str) -> dict[str, str]:
    """Copy an LMS download into `submitted/`; return {student: problem} for refused entries."""
    problems: dict[str, str] = {}
    name = f"{notebook_id}.ipynb"
    for entry in sorted(downloads.iterdir()):
        if entry.name.startswith("."):
            continue
        student = _student_of(entry)
        if not STUDENT_ID.match(student):
            problems[entry.name] = f"cannot tell the student id from the file name {entry.name!r}"
            continue
        folder = course / "submitted" / student / assignment
        if not _inside(course / "submitted", folder):
            problems[student] = "the student id would point outside the course"
            continue
        if entry.is_symlink():
            problems[student] = f"{entry.name} is a symbolic link"
            continue
        staging = folder.with_name(f".{assignment}.incoming")
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        problem = None
        if entry.suffix == ".zip":
            try:
                problem = _import_zip(entry, staging, name)
            except Exception as err:  # one learner's upload never stops the others' import
                problem = f"the zip file could not be read ({type(err).__name__})"
        elif entry.suffix == ".ipynb":
            shutil.copyfile(entry, staging / name)
        elif entry.is_dir():
            problem = "a folder in the download: expected .ipynb or .zip files"
        else:
            problem = f"{entry.name} is neither a notebook (.ipynb) nor a zip file"
        if problem:
            problems[student] = problem
            shutil.rmtree(staging, ignore_errors=True)
            continue
        # Replace the learner's folder only when its notebook changed: keeps resume cheap.
        old = folder / name
        new = staging / name
        if old.exists() and new.exists() and old.read_bytes() == new.read_bytes():
            shutil.rmtree(staging)
            continue
        shutil.rmtree(folder, ignore_errors=True)
        staging.rename(folder)
    return problems


def collect(course: Path, assignment: str, notebook_id: str,
            downloads: Path | None = None) -> list[Submission]:
    """Every submission of `assignment`, in student order, each checked."""
    refused: dict[str, str] = {}
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
            refused = import_downloads(course, downloads, assignment, notebook_id)
    subs: dict[str, Submission] = {}
    submitted = course / "submitted"
    for folder in sorted(submitted.glob(f"*/{assignment}")) if submitted.exists() else []:
        student = folder.parent.name
        if folder.parent.name.startswith("."):
            continue
        try:
            subs[student] = check_folder(course, student, assignment, folder, notebook_id)
        except (OSError, ValueError) as err:  # one learner's files never stop the class
            subs[student] = Submission(student, assignment, folder, None,
                                       f"the submission could not be read ({type(err).__name__})")
    for student, problem in refused.items():
        if student in subs and subs[student].problem is None and STUDENT_ID.match(student):
            continue  # an earlier, good submission stays
        subs[student] = Submission(student, assignment, submitted / student / assignment, None,
                                   problem)
    return [subs[s] for s in sorted(subs)]
