"""Naming: whose file each entry of an LMS download is, read from the name the LMS gave it.

An LMS download is a folder of files named after their learners. Two learners may share a name
(Canvas's ``smithjohn_111_...`` and ``smithjohn_222_...``), so learners are keyed by the LMS's
user id, never by the name; every file is one learner's, and two files that would land on the
same place of one learner's submission are refused together (a collision), never one replacing
the other. The naming rules, from each LMS's own code:

- **Canvas** (``lib/content_zipper.rb``, "Download Submissions"):
  ``<name>[_LATE]_<user id>_<attachment id>_<file name>``. The name is the learner's sortable
  name, lower-cased, every non-word character removed and any ``_<digits>_`` run joined (so the
  ids can be found); ``LATE`` marks a submission after its due date; the attachment id is the id
  of that uploaded file (``DownloadName.submission_id``); the file name is the file's display
  name, which Canvas renames ``ps1-1.ipynb`` when a learner uploads ``ps1.ipynb`` again. Text
  and URL entries arrive as ``<name>_<user id>_text.html`` / ``_link.html``; anonymous grading
  writes ``anon_<anonymous id>`` instead of the name and the user id.
- **Moodle** (``mod/assign/classes/downloader.php``, "Download all submissions"):
  ``<full name>_<participant id>_assignsubmission_file_<file name>``, or, with "Download
  submissions in folders" (the default since Moodle 3.1), the folder
  ``<full name>_<participant id>_assignsubmission_file/`` holding the learner's files. The full
  name has ``_`` replaced by spaces; the participant id is the assignment's id for the learner,
  the one Moodle's grading worksheet writes as ``Participant <id>``.
- **plain**: ``<student>.ipynb`` or ``<student>.zip``, the student id being the file's stem.

The nbgrader student id of a learner comes from a `Roster` (the LMS's own export) when one is
given, else it is derived from the LMS user id (``canvas-111``, ``moodle-12345``): an id that
is always a safe folder name and never depends on the learner's name.

Written by hand: no library parses LMS download names. Pure functions: nothing here opens a
file except `list_download` (a listing) and `Roster.load` (reading the roster).
"""

from __future__ import annotations

import csv
import io
import os
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Literal

from autograder.text import printable

__all__ = ["LMS", "STUDENT_ID", "DownloadName", "DownloadPlan", "Learner", "LearnerFiles",
           "LearnerKey", "Listing", "NameRefused", "PlannedFile", "Refusal", "Roster",
           "RosterError", "derived_student_id", "learner_of", "list_download", "parse_name",
           "plan_download"]

LMS = Literal["canvas", "moodle", "plain"]

#: What an nbgrader student id may be here: a course folder's name on any system.
STUDENT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.@+-]{0,99}$")

_CANVAS = re.compile(
    r"(?P<name>\w*?)(?P<late>_LATE)?_(?P<user>\d+)_(?P<file>\d+)_(?P<original>[^/]+)")
_CANVAS_TEXT = re.compile(r"(?P<name>\w*?)(?P<late>_LATE)?_(?P<user>\d+)_(?P<kind>text|link)\.html")
_CANVAS_ANON = re.compile(r"(?:LATE_)?anon_[A-Za-z0-9]+_\d+_[^/]+")
_MOODLE = re.compile(r"(?P<name>[^_/]+)_(?P<user>\d+)_assignsubmission_(?P<plugin>[a-z]+)"
                     r"(?:_(?P<original>[^/]+)|/(?P<inner>.+))")
_PLAIN = re.compile(r"(?P<stem>[^/]+)\.(?P<ext>ipynb|zip)")
_DERIVED = re.compile(r"(?P<lms>canvas|moodle)-(?P<user>\d+)")
_RESUBMITTED = re.compile(r"(?P<stem>.+)-\d+(?P<ext>\.[^.]+)")


class NameRefused(ValueError):
    """A file name that names no learner, or one whose file cannot be graded; the message says
    why, in words the learner (or the instructor) can act on."""

    def __init__(self, reason: str, key: LearnerKey | None = None, name: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.key = key  # the learner, when the name says whose file it is
        self.name = name  # and their name, as the file name gives it


@dataclass(frozen=True, order=True)
class LearnerKey:
    """A learner as the LMS knows them: the LMS and its user id for them."""

    lms: LMS
    user_id: str

    def __str__(self) -> str:
        return f"{self.lms} user {self.user_id}"


@dataclass(frozen=True)
class DownloadName:
    """What the LMS wrote into one download entry's name."""

    path: str  # the entry as listed, relative to the download folder, with "/" between parts
    lms: LMS
    user_id: str
    name: str  # Canvas: the login-ish sortable name; Moodle: the full name; plain: the stem
    late: bool  # Canvas's LATE marker (the other LMSs do not name it)
    submission_id: str  # Canvas: the uploaded file's attachment id; "" for the others
    original: str  # the file name as the learner uploaded it (Moodle folders: path inside)

    @property
    def key(self) -> LearnerKey:
        return LearnerKey(self.lms, self.user_id)


def parse_name(path: str) -> DownloadName:
    """The `DownloadName` of one listed entry (``"a/b"`` for a file inside a folder).

    Raises `NameRefused` for an entry that names no learner, or names one but holds nothing a
    grader can take (a Canvas text entry, a Moodle online text).
    """
    shown = printable(path)
    if m := _CANVAS.fullmatch(path):
        return DownloadName(path, "canvas", m["user"], m["name"], bool(m["late"]), m["file"],
                            m["original"])
    if m := _CANVAS_TEXT.fullmatch(path):
        what = "text entry" if m["kind"] == "text" else "website URL"
        raise NameRefused(f"{shown} is a Canvas {what}, not an uploaded file: submit the "
                          "notebook file itself", LearnerKey("canvas", m["user"]), m["name"])
    if _CANVAS_ANON.fullmatch(path):
        raise NameRefused(f"{shown} comes from a Canvas download with anonymous grading on, "
                          "which hides whose file it is: download again with anonymous grading "
                          "off, or fetch the submissions through the API")
    if m := _MOODLE.fullmatch(path):
        key = LearnerKey("moodle", m["user"])
        if m["plugin"] != "file":
            raise NameRefused(f"{shown} is a Moodle {m['plugin']} submission, not an uploaded "
                              "file: submit the notebook file itself", key, m["name"].strip())
        original = m["original"] or m["inner"]
        return DownloadName(path, "moodle", m["user"], m["name"].strip(), False, "", original)
    if (m := _PLAIN.fullmatch(path)) and STUDENT_ID.fullmatch(m["stem"]):
        return DownloadName(path, "plain", m["stem"], m["stem"], False, "", path)
    raise NameRefused(
        f"cannot tell whose file {shown} is: its name follows neither Canvas's download naming "
        "(name_userid_fileid_file), nor Moodle's (Full Name_id_assignsubmission_file_file), nor "
        "<student>.ipynb / <student>.zip")


def derived_student_id(key: LearnerKey) -> str:
    """The nbgrader student id of a learner no roster names: ``canvas-111``, ``moodle-12345``;
    a plain download's id is its stem. Deterministic, and a safe folder name by construction."""
    sid = key.user_id if key.lms == "plain" else f"{key.lms}-{key.user_id}"
    if not STUDENT_ID.fullmatch(sid):  # only reachable with a hand-made key
        raise ValueError(f"{printable(sid)!r} is not a usable student id")
    return sid


def learner_of(student_id: str) -> LearnerKey | None:
    """The LMS learner a derived student id stands for (``canvas-111`` -> Canvas user 111)."""
    m = _DERIVED.fullmatch(student_id)
    return LearnerKey(m["lms"], m["user"]) if m else None  # type: ignore[arg-type]


# ---- roster ------------------------------------------------------------------------------

class RosterError(ValueError):
    """A roster file that cannot be read as the LMS writes it; the message names the row."""


@dataclass(frozen=True)
class Learner:
    """One learner of a roster: the LMS's ids and name for them, and their nbgrader id."""

    key: LearnerKey
    name: str
    student_id: str
    sis_user_id: str = ""
    sis_login_id: str = ""
    section: str = ""


_NBGRADER_COLUMN = {"nbgrader id", "nbgrader_id", "nbgrader student id"}


class Roster:
    """The class as the LMS exports it: learners by LMS user id and by nbgrader student id.

    Read from Canvas's gradebook export (columns ``Student, ID, SIS User ID, SIS Login ID,
    Section, ...``) or Moodle's grading worksheet (``Identifier, Full name, ...``). Add a column
    ``nbgrader id`` to give learners your own nbgrader ids (e.g. their JupyterHub logins);
    without it each learner gets the derived id (`derived_student_id`).
    """

    def __init__(self, learners: Iterable[Learner]) -> None:
        self._by_key: dict[LearnerKey, Learner] = {}
        self._by_student: dict[str, Learner] = {}
        for learner in learners:
            same = self._by_key.get(learner.key)
            if same is not None and same != learner:
                raise RosterError(f"{learner.key} appears twice with different details")
            other = self._by_student.get(learner.student_id)
            if other is not None and other.key != learner.key:
                raise RosterError(f"{other.key} and {learner.key} would share the nbgrader id "
                                  f"{learner.student_id!r}: each learner needs their own")
            self._by_key[learner.key] = learner
            self._by_student[learner.student_id] = learner

    @classmethod
    def load(cls, path: Path) -> Roster:
        """Read a roster file (UTF-8, with or without the byte-order mark Excel writes)."""
        return cls.from_csv(path.read_text(encoding="utf-8-sig"))

    @classmethod
    def from_csv(cls, text: str) -> Roster:
        rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
        if not rows:
            raise RosterError("the roster is empty")
        header = [h.strip() for h in rows[0]]
        lower = [h.lower() for h in header]
        if "student" in lower and "id" in lower:
            return cls(_canvas_roster(header, rows[1:]))
        if "identifier" in lower:
            return cls(_moodle_roster(header, rows[1:]))
        raise RosterError(
            "a roster is Canvas's gradebook export (columns Student, ID, SIS User ID, ...) or "
            "Moodle's grading worksheet (columns Identifier, Full name, ...); this file's "
            f"columns are: {printable(', '.join(header))}")

    def get(self, key: LearnerKey) -> Learner | None:
        return self._by_key.get(key)

    def by_student(self, student_id: str) -> Learner | None:
        return self._by_student.get(student_id)

    def student_id(self, key: LearnerKey) -> str:
        """The roster's nbgrader id of `key`, else the derived one."""
        learner = self._by_key.get(key)
        return learner.student_id if learner else derived_student_id(key)

    def taken(self, student_id: str, key: LearnerKey) -> bool:
        """Whether the roster gives `student_id` to a learner other than `key`."""
        other = self._by_student.get(student_id)
        return other is not None and other.key != key

    def __iter__(self) -> Iterator[Learner]:
        return iter(sorted(self._by_key.values(), key=lambda learner: learner.key))

    def __len__(self) -> int:
        return len(self._by_key)

    def __repr__(self) -> str:
        systems = sorted({key.lms for key in self._by_key})
        return f"Roster({len(self)} learners, {'/'.join(systems) or 'empty'})"


def _column(header: list[str], *names: str) -> int | None:
    lower = [h.lower() for h in header]
    return next((lower.index(n) for n in names if n in lower), None)


def _cell(row: list[str], index: int | None) -> str:
    return row[index].strip() if index is not None and index < len(row) else ""


def _student_id(row: list[str], nbgrader: int | None, key: LearnerKey, where: str) -> str:
    given = _cell(row, nbgrader)
    if not given:
        return derived_student_id(key)
    if not STUDENT_ID.fullmatch(given):
        raise RosterError(f"{where}: the nbgrader id {printable(given)!r} is not allowed (letters, "
                          "digits and . @ + -, starting with a letter or digit, at most 100)")
    return given


def _canvas_roster(header: list[str], rows: list[list[str]]) -> list[Learner]:
    name, uid = _column(header, "student"), _column(header, "id")
    sis, login = _column(header, "sis user id"), _column(header, "sis login id")
    section, nbgrader = _column(header, "section"), _column(header, *_NBGRADER_COLUMN)
    learners = []
    for line, row in enumerate(rows, start=2):
        user_id = _cell(row, uid)
        if "Points Possible" in _cell(row, name) or not user_id:
            continue  # Canvas's "Points Possible" row, its muted / manual-posting rows
        where = f"roster line {line}"
        if not user_id.isdigit():
            raise RosterError(f"{where}: the Canvas ID {printable(user_id)!r} is not a number")
        key = LearnerKey("canvas", user_id)
        learners.append(Learner(key, _cell(row, name), _student_id(row, nbgrader, key, where),
                                _cell(row, sis), _cell(row, login), _cell(row, section)))
    return learners


def _moodle_roster(header: list[str], rows: list[list[str]]) -> list[Learner]:
    ident, name = _column(header, "identifier"), _column(header, "full name")
    nbgrader = _column(header, *_NBGRADER_COLUMN)
    learners = []
    for line, row in enumerate(rows, start=2):
        value = _cell(row, ident)
        if not value:
            continue
        m = re.fullmatch(r"\D*?(\d+)", value)  # "Participant 12345" in any language
        where = f"roster line {line}"
        if not m:
            raise RosterError(f"{where}: the identifier {printable(value)!r} has no participant "
                              "number")
        key = LearnerKey("moodle", m[1])
        learners.append(Learner(key, _cell(row, name), _student_id(row, nbgrader, key, where)))
    return learners


# ---- a download's plan --------------------------------------------------------------------

@dataclass(frozen=True)
class Listing:
    """A download folder as listed: its files, and entries that are not regular files."""

    files: tuple[str, ...]
    not_regular: tuple[str, ...] = ()  # symbolic links, devices, sockets: never read
    skipped: tuple[str, ...] = ()  # system clutter: .DS_Store, __MACOSX/, hidden files


def list_download(folder: Path) -> Listing:
    """Every entry under `folder`, as relative paths with "/", without following links."""
    files: list[str] = []
    odd: list[str] = []
    skipped: list[str] = []
    for root, dirs, names in os.walk(folder):
        rel = PurePosixPath(Path(root).relative_to(folder).as_posix())
        for d in list(dirs):
            full = Path(root) / d
            if d.startswith(".") or d == "__MACOSX":
                skipped.append(str(rel / d) + "/")
                dirs.remove(d)
            elif full.is_symlink():
                odd.append(str(rel / d))
                dirs.remove(d)
        for n in names:
            entry = str(rel / n)
            full = Path(root) / n
            if n.startswith("."):
                skipped.append(entry)
            elif full.is_symlink() or not full.is_file():
                odd.append(entry)
            else:
                files.append(entry)
    return Listing(tuple(sorted(files)), tuple(sorted(odd)), tuple(sorted(skipped)))


Kind = Literal["notebook", "archive", "other"]


@dataclass(frozen=True)
class PlannedFile:
    """One accepted file: where it goes inside the learner's ``submitted/<student>/<a>/``."""

    name: DownloadName
    target: str  # relative path inside the submission folder; an archive's own name
    kind: Kind


@dataclass(frozen=True)
class Refusal:
    """Files not taken, and why (a sentence for the learner, naming every file concerned)."""

    files: tuple[str, ...]
    reason: str
    key: LearnerKey | None = None  # whose files, when the names say it


@dataclass(frozen=True)
class LearnerFiles:
    """One learner of a download: the files taken and the ones refused."""

    key: LearnerKey
    student_id: str
    name: str
    late: bool
    files: tuple[PlannedFile, ...]
    refusals: tuple[Refusal, ...] = ()

    @property
    def reason(self) -> str:
        """Why this learner's submission cannot be graded as it is ("" when it can)."""
        return "; ".join(r.reason for r in self.refusals)


@dataclass(frozen=True)
class DownloadPlan:
    """A whole download, per learner, with counts that add up: every listed entry is either
    taken for exactly one learner or refused exactly once."""

    learners: tuple[LearnerFiles, ...]
    unclaimed: tuple[Refusal, ...] = ()  # entries that name no learner
    listed: int = field(default=0)

    @property
    def refusals(self) -> tuple[Refusal, ...]:
        return tuple(r for learner in self.learners for r in learner.refusals) + self.unclaimed

    @property
    def accepted(self) -> int:
        return sum(len(learner.files) for learner in self.learners)

    @property
    def refused(self) -> int:
        return sum(len(r.files) for r in self.refusals)

    def learner(self, key: LearnerKey) -> LearnerFiles | None:
        return next((learner for learner in self.learners if learner.key == key), None)

    def summary(self) -> str:
        """The counts, then each refusal with its reason."""
        taking = sum(1 for learner in self.learners if learner.files)
        lines = [f"{self.listed} files: {self.accepted} taken, {self.refused} refused "
                 f"({len(self.refusals)} refusals); {len(self.learners)} learners, {taking} "
                 "with files taken"]
        for r in self.refusals:
            who = f"{r.key}: " if r.key else ""
            lines.append(f"  refused {who}{r.reason}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return (f"DownloadPlan({self.listed} files, {len(self.learners)} learners, "
                f"{len(self.refusals)} refusals)")


def plan_download(listing: Listing | Iterable[str], notebooks: Sequence[str],
                  roster: Roster | None = None) -> DownloadPlan:
    """Per learner, the files of a download and where each goes; refusals with their reasons.

    `notebooks` are the assignment's notebook names (``ps1`` or ``ps1.ipynb``). A learner's
    notebook is matched to them by name (Canvas's ``ps1-1.ipynb`` renaming undone); a notebook of
    another name is still taken, under its own name, for the grader to report. Refused: names
    that say no learner, unsafe names, and collisions (two files for one place of one learner,
    a zip next to other work of the same learner, two learners on one nbgrader id).
    """
    if not isinstance(listing, Listing):
        listing = Listing(tuple(listing))
    wanted = tuple(n if n.endswith(".ipynb") else f"{n}.ipynb" for n in notebooks)
    if not wanted:
        raise ValueError("plan_download needs the assignment's notebook names")
    roster = roster or Roster(())
    unclaimed: list[Refusal] = []
    mine: dict[LearnerKey, list[PlannedFile]] = defaultdict(list)
    refused: dict[LearnerKey, list[Refusal]] = defaultdict(list)
    names: dict[LearnerKey, DownloadName] = {}
    for path in listing.not_regular:
        unclaimed.append(Refusal((path,), f"{printable(path)} is a symbolic link or a special "
                                          "file, not a file: it is never read"))
    for path in listing.files:
        try:
            parsed = parse_name(path)
        except NameRefused as err:
            if err.key is None:
                unclaimed.append(Refusal((path,), err.reason))
            else:
                refused[err.key].append(Refusal((path,), err.reason, err.key))
                names.setdefault(err.key, DownloadName(path, err.key.lms, err.key.user_id,
                                                       err.name, False, "", ""))
            continue
        names.setdefault(parsed.key, parsed)
        try:
            mine[parsed.key].append(_planned(parsed, wanted))
        except NameRefused as err:
            refused[parsed.key].append(Refusal((path,), err.reason, parsed.key))
    keys = sorted(set(mine) | set(refused))
    for key in keys:
        kept, clashes = _collisions(key, mine.get(key, []))
        mine[key] = kept
        refused[key].extend(clashes)
    ids = {key: roster.student_id(key) for key in keys}
    by_id: dict[str, list[LearnerKey]] = defaultdict(list)
    for key in keys:
        by_id[ids[key]].append(key)
    for sid, sharing in by_id.items():
        if len(sharing) > 1 or (len(sharing) == 1 and roster.taken(sid, sharing[0])):
            _refuse_shared_id(sid, sharing, mine, refused)
    learners = []
    for key in keys:
        first = names.get(key)
        entry = roster.get(key)
        shown = entry.name if entry and entry.name else (first.name if first else "")
        late = any(p.name.late for p in mine[key]) or bool(first and first.late)
        learners.append(LearnerFiles(key, ids[key], shown, late, tuple(mine[key]),
                                     tuple(refused[key])))
    plan = DownloadPlan(tuple(learners), tuple(unclaimed),
                        len(listing.files) + len(listing.not_regular))
    if plan.accepted + plan.refused != plan.listed:  # every entry counted exactly once
        raise AssertionError(f"{plan!r}: {plan.accepted} + {plan.refused} != {plan.listed}")
    return plan


def _unsafe(target: str) -> str | None:
    parts = target.split("/")
    for part in parts:
        if part in ("", ".", "..") or part.startswith("."):
            return "has an empty, hidden or parent-folder part"
        if "\\" in part or re.match(r"[A-Za-z]:", part) or any(not c.isprintable() for c in part):
            return "has characters a course folder cannot use"
        if len(part.encode()) > 255:
            return "is longer than a file name can be"
    return None


def _planned(parsed: DownloadName, wanted: Sequence[str]) -> PlannedFile:
    original = parsed.original
    problem = _unsafe(original)
    if problem:
        raise NameRefused(f"the file name {printable(original)!r} {problem}: rename the file "
                          "and submit again")
    suffix = PurePosixPath(original).suffix.lower()
    if parsed.lms == "plain":
        if suffix == ".zip":
            return PlannedFile(parsed, original, "archive")
        if len(wanted) != 1:
            raise NameRefused(f"{printable(parsed.path)} is one notebook named after its learner, "
                              f"but the assignment has {len(wanted)} notebooks "
                              f"({', '.join(wanted)}): submit them together in "
                              f"{parsed.user_id}.zip")
        return PlannedFile(parsed, wanted[0], "notebook")
    if suffix == ".zip":
        return PlannedFile(parsed, original, "archive")
    if suffix != ".ipynb":
        return PlannedFile(parsed, original, "other")
    if original in wanted:
        return PlannedFile(parsed, original, "notebook")
    m = _RESUBMITTED.fullmatch(original)
    if parsed.lms == "canvas" and m and f"{m['stem']}{m['ext']}" in wanted:
        return PlannedFile(parsed, f"{m['stem']}{m['ext']}", "notebook")  # Canvas's "-1" rename
    return PlannedFile(parsed, original, "notebook")


def _collisions(key: LearnerKey,
                files: list[PlannedFile]) -> tuple[list[PlannedFile], list[Refusal]]:
    """Split one learner's files into those kept and the refused collisions."""
    clashes: list[list[PlannedFile]] = []
    archives = [f for f in files if f.kind == "archive"]
    if archives and len(files) > 1:
        clashes.append(files)  # a zip is the whole submission: anything beside it is ambiguous
    else:
        by_target: dict[str, list[PlannedFile]] = defaultdict(list)
        for f in files:
            by_target[f.target.lower()].append(f)  # ps1.ipynb and PS1.ipynb clash on macOS too
        clashes.extend(group for group in by_target.values() if len(group) > 1)
    clashing = {id(f) for group in clashes for f in group}
    refusals = []
    for group in clashes:
        paths = tuple(f.name.path for f in group)
        listed = " and ".join(printable(p) for p in paths)
        if any(f.kind == "archive" for f in group):
            why = "a zip file holds the whole submission, so nothing may come beside it"
        else:
            why = f"both would be graded as {printable(group[0].target)}"
        refusals.append(Refusal(paths, f"{listed} are both yours and {why}: none of them was "
                                       "taken; submit exactly one file for each notebook", key))
    return [f for f in files if id(f) not in clashing], refusals


def _refuse_shared_id(sid: str, sharing: list[LearnerKey],
                      mine: dict[LearnerKey, list[PlannedFile]],
                      refused: dict[LearnerKey, list[Refusal]]) -> None:
    everyone = [p.name.path for key in sharing for p in mine[key]]
    for key in sharing:
        paths = tuple(p.name.path for p in mine[key])
        others = [printable(p) for p in everyone if p not in paths]
        beside = f" (and {', '.join(others)})" if others else ""
        why = (f"{', '.join(printable(p) for p in paths) or 'this learner'}{beside}: different "
               f"learners would share the course id {sid!r}; none of them was taken")
        if paths:
            refused[key].append(Refusal(paths, why, key))
        mine[key] = []

