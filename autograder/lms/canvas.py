"""Canvas: upload each learner's grade and feedback, and fetch submissions, through Canvas's API.

The REST calls go through ``canvasapi`` (a well-kept client: pagination, errors, the request
encoding Canvas expects). Written here, and why:

- **The feedback file's upload.** A comment carries the learner's feedback HTML as an attached
  file, which Canvas takes in three steps (``doc/api/file_uploads.md``): ask for an upload slot
  (``POST .../submissions/:user_id/comments/files``), ``POST`` the file to the slot's
  ``upload_url`` with every ``upload_params`` field and the file last, *without* the access
  token, then confirm (a ``201 Created`` carries the file; a redirect must be fetched *with* the
  token); only then does ``comment[file_ids][]`` attach it. canvasapi's ``upload_comment`` posts
  the file as a comment of its own with no text (canvasapi#496) and lets ``requests`` follow the
  confirmation redirect without the token, so the three steps are spelled out below, with
  canvasapi's ``Requester`` for the two authenticated ones. The token is only ever sent to the
  Canvas address it was given for.
- **Dry run, resumption, never twice.** `upload` sends nothing unless ``apply=True``; it reports
  what would change (old grade -> new grade, the comment to add). A state file records, per
  learner, the grade value sent, the hash of the feedback sent and the ids of uploaded files,
  each written as soon as Canvas confirmed it: a run stopped half-way (a server error, Ctrl-C)
  is run again and sends only what is missing. A grade Canvas already holds, or feedback whose
  uploaded file is already attached to a comment, is recorded as sent without sending it again.
- **Fetching** (`fetch_submissions`) downloads each submission's files under the names Canvas's
  own "Download Submissions" gives them (so `autograder.lms.naming` reads them) and returns each
  learner's ``submitted_at`` (nbgrader's ``timestamp.txt`` wants it; file names only say LATE).
"""

from __future__ import annotations

import hashlib
import json
import mimetypes
import os
import re
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urljoin, urlsplit

import requests
from canvasapi import Canvas  # type: ignore[import-untyped]
from canvasapi.exceptions import CanvasException  # type: ignore[import-untyped]
from canvasapi.requester import Requester  # type: ignore[import-untyped]

from autograder.lms.export import points
from autograder.text import printable

__all__ = ["CanvasTarget", "Change", "FetchedSubmission", "LearnerUpload", "UploadError",
           "UploadReport", "fetch_submissions", "upload"]

MAX_DOWNLOAD_BYTES = 50_000_000  # one submitted file; a class's notebooks are far smaller
TIMEOUT = 120  # seconds, for the requests made here (canvasapi's own have none)
_LOOPBACK = ("127.0.0.1", "localhost", "::1")


@dataclass(frozen=True)
class CanvasTarget:
    """One Canvas assignment: the Canvas address, an API token, the course and assignment ids."""

    base_url: str
    token: str = field(repr=False)
    course_id: int
    assignment_id: int

    def __post_init__(self) -> None:
        split = urlsplit(self.base_url)
        if split.scheme != "https" and not (split.scheme == "http"
                                            and split.hostname in _LOOPBACK):
            raise ValueError(f"the Canvas address must start with https:// (got "
                             f"{printable(self.base_url)!r}): the token must not travel in clear")
        if split.path.strip("/") or split.query:
            raise ValueError("give the Canvas address alone, e.g. https://school.instructure.com")
        if not self.token.strip():
            raise ValueError("no Canvas API token (Canvas: Account > Settings > New access token)")

    @property
    def origin(self) -> str:
        split = urlsplit(self.base_url)
        return f"{split.scheme}://{split.netloc}"

    def owns(self, url: str) -> bool:
        """Whether `url` is on this Canvas (the only place the token may go)."""
        split = urlsplit(url)
        return f"{split.scheme}://{split.netloc}" == self.origin

    def canvas(self) -> Any:
        with warnings.catch_warnings():  # canvasapi warns about http://, allowed for loopback
            warnings.simplefilter("ignore", UserWarning)
            return Canvas(self.origin, self.token)

    def requester(self) -> Any:
        return Requester(self.origin, self.token)

    def assignment(self) -> Any:
        return self.canvas().get_course(self.course_id).get_assignment(self.assignment_id)


@dataclass(frozen=True)
class LearnerUpload:
    """What one learner should receive: a grade (None leaves Canvas's as it is) and a comment
    with the feedback files attached."""

    user_id: int
    student_id: str
    grade: float | None
    comment: str = ""
    feedback: tuple[Path, ...] = ()

    def digest(self) -> str:
        """The hash of the comment and its files: what "this feedback was sent" refers to."""
        h = hashlib.sha256(self.comment.encode())
        for path in self.feedback:
            h.update(b"\0" + path.name.encode() + b"\0")
            h.update(hashlib.sha256(path.read_bytes()).digest())
        return h.hexdigest()


@dataclass(frozen=True)
class Change:
    """One change to Canvas: a grade or a comment for one learner."""

    user_id: int
    student_id: str
    kind: Literal["grade", "comment"]
    detail: str

    def __str__(self) -> str:
        return f"{self.student_id} (Canvas user {self.user_id}): {self.kind} {self.detail}"


@dataclass
class UploadReport:
    """What an upload would change (dry run) or changed, and what it could not do."""

    applied: bool
    changes: list[Change] = field(default_factory=list)
    sent: list[Change] = field(default_factory=list)
    already: list[str] = field(default_factory=list)  # learners with nothing left to send
    problems: list[str] = field(default_factory=list)

    def text(self) -> str:
        verb = "Sent" if self.applied else "Would send (dry run: nothing sent; --apply sends)"
        lines = [f"{verb}: {len(self.changes)} changes for "
                 f"{len({c.user_id for c in self.changes})} learners; {len(self.already)} "
                 "learners already up to date"]
        lines += [f"  {c}" for c in self.changes]
        if self.problems:
            lines.append(f"Not sent ({len(self.problems)}):")
            lines += [f"  {p}" for p in self.problems]
        return "\n".join(lines)

    def __repr__(self) -> str:
        return (f"UploadReport(applied={self.applied}, {len(self.changes)} changes, "
                f"{len(self.sent)} sent, {len(self.problems)} problems)")


class UploadError(Exception):
    """The upload stopped; what was sent before is recorded, and a rerun sends the rest."""

    def __init__(self, message: str, report: UploadReport | None = None) -> None:
        super().__init__(message)
        self.report = report


class _State:
    """The state file: per Canvas user, what was sent (grade, feedback hash, uploaded files)."""

    def __init__(self, path: Path, target: CanvasTarget) -> None:
        self.path = path
        self.header = {"canvas": target.origin, "course": target.course_id,
                       "assignment": target.assignment_id}
        self.learners: dict[str, dict[str, Any]] = {}
        if path.exists():
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
            except json.JSONDecodeError as err:
                raise UploadError(f"the upload state {path} is damaged ({err}): move it away "
                                  "only if nothing was sent with it") from err
            found = {k: data.get(k) for k in self.header}
            if found != self.header:
                raise UploadError(f"the upload state {path} belongs to another Canvas assignment "
                                  f"({found}); this upload is {self.header}")
            self.learners = data.get("learners", {})

    def learner(self, user_id: int) -> dict[str, Any]:
        return self.learners.setdefault(str(user_id), {})

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(f".{self.path.name}.tmp")
        tmp.write_text(json.dumps({**self.header, "learners": self.learners}, indent=1,
                                  sort_keys=True), encoding="utf-8")
        os.replace(tmp, self.path)


@dataclass
class _Todo:
    learner: LearnerUpload
    submission: Any
    grade: str | None = None  # the posted_grade to send
    comment: str | None = None  # the feedback digest to send
    adopt: dict[str, Any] = field(default_factory=dict)  # state to record without sending


def upload(target: CanvasTarget, learners: Iterable[LearnerUpload], *, state_path: Path,
           apply: bool = False, echo: Callable[[str], None] | None = None) -> UploadReport:
    """Plan, and with ``apply=True`` send, each learner's grade and feedback comment.

    The plan reads the assignment's submissions (``GET`` only). Sending goes learner by
    learner, grade first, then the files (three steps each), then the comment; the state file is
    written after each confirmed step. Raises `UploadError` (with the report so far) when Canvas
    refuses or fails: run the same command again to send what is missing.
    """
    report = UploadReport(applied=apply)
    try:
        assignment = target.assignment()
        current = {int(s.user_id): s for s in
                   assignment.get_submissions(include=["submission_comments"])}
    except (CanvasException, requests.RequestException) as err:
        raise UploadError(f"cannot read the assignment's submissions from Canvas: {err}",
                          report) from err
    state = _State(state_path, target)
    todo = []
    for learner in sorted(learners, key=lambda item: item.user_id):
        who = f"{learner.student_id} (Canvas user {learner.user_id})"
        sub = current.get(learner.user_id)
        if sub is None:
            report.problems.append(f"{who}: no submission in this Canvas assignment (is the "
                                   "learner enrolled in the course?)")
            continue
        item = _plan(learner, sub, state.learner(learner.user_id))
        if item.grade is None and item.comment is None:
            report.already.append(learner.student_id)
        if item.grade is not None:
            old = "no grade" if sub.score is None else points(float(sub.score))
            report.changes.append(Change(learner.user_id, learner.student_id, "grade",
                                         f"{old} -> {item.grade}"))
        if item.comment is not None:
            files = ", ".join(p.name for p in learner.feedback) or "no file"
            report.changes.append(Change(learner.user_id, learner.student_id, "comment",
                                         f"{printable(learner.comment, 60)!r} with {files}"))
        todo.append(item)
    if echo:
        echo(report.text())
    if not apply:
        return report
    requester = target.requester()
    for item in todo:
        record = state.learner(item.learner.user_id)
        if item.adopt:
            record.update(item.adopt)
            state.save()
        try:
            _send(target, requester, item, record, state, report)
        except (CanvasException, requests.RequestException, OSError, ValueError) as err:
            raise UploadError(
                f"stopped at {item.learner.student_id} (Canvas user {item.learner.user_id}): "
                f"{err}. {len(report.sent)} changes were sent and recorded in {state.path}; "
                "run the same command again to send the rest", report) from err
    return report


def _plan(learner: LearnerUpload, sub: Any, record: dict[str, Any]) -> _Todo:
    item = _Todo(learner, sub)
    if learner.grade is not None:
        new = points(learner.grade)
        if record.get("grade") != new:
            if sub.score is not None and points(float(sub.score)) == new:
                item.adopt["grade"] = new  # Canvas has it already: record, do not send
            else:
                item.grade = new
    if learner.comment or learner.feedback:
        digest = learner.digest()
        if record.get("feedback") != digest:
            uploaded = record.get("files", {})
            ids = [uploaded.get(_file_hash(p)) for p in learner.feedback]
            attached = {a.get("id") for c in getattr(sub, "submission_comments", None) or []
                        for a in c.get("attachments", [])}
            if ids and all(i is not None and i in attached for i in ids):
                item.adopt["feedback"] = digest  # the comment reached Canvas: never twice
            else:
                item.comment = digest
    return item


def _file_hash(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _send(target: CanvasTarget, requester: Any, item: _Todo, record: dict[str, Any],
          state: _State, report: UploadReport) -> None:
    learner, sub = item.learner, item.submission
    if item.grade is not None:
        sub.edit(submission={"posted_grade": item.grade})
        record["grade"] = item.grade
        state.save()
        report.sent.append(next(c for c in report.changes
                                if c.user_id == learner.user_id and c.kind == "grade"))
    if item.comment is not None:
        uploaded = record.setdefault("files", {})
        file_ids = []
        for path in learner.feedback:
            digest = _file_hash(path)
            if digest not in uploaded:
                uploaded[digest] = _upload_file(target, requester, learner.user_id, path)
                state.save()
            file_ids.append(uploaded[digest])
        comment: dict[str, Any] = {"text_comment": learner.comment}
        if file_ids:
            comment["file_ids"] = file_ids
        sub.edit(comment=comment)
        record["feedback"] = item.comment
        state.save()
        report.sent.append(next(c for c in report.changes
                                if c.user_id == learner.user_id and c.kind == "comment"))


def _json(response: requests.Response) -> dict[str, Any]:
    data = json.loads(response.text.removeprefix("while(1);") or "{}")
    if not isinstance(data, dict):
        raise ValueError("Canvas answered the upload with something other than a file")
    return data


def _upload_file(target: CanvasTarget, requester: Any, user_id: int, path: Path) -> int:
    """Canvas's three-step upload of a submission-comment file; returns the confirmed file id."""
    content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    slot = requester.request(
        "POST", f"courses/{target.course_id}/assignments/{target.assignment_id}/submissions/"
                f"{user_id}/comments/files",
        name=path.name, size=path.stat().st_size, content_type=content_type).json()
    if not slot.get("upload_url") or not isinstance(slot.get("upload_params"), dict):
        raise ValueError("Canvas gave no upload slot (upload_url, upload_params)")
    with path.open("rb") as fh:  # upload_params unchanged, the file last, no token
        sent = requests.post(slot["upload_url"], data=list(slot["upload_params"].items()),
                             files=[("file", (path.name, fh, content_type))],
                             allow_redirects=False, timeout=TIMEOUT)
    if sent.status_code in (301, 302, 303, 307, 308):
        confirm = urljoin(slot["upload_url"], sent.headers.get("Location", ""))
        info = _confirm(target, requester, confirm)
    elif sent.status_code in (200, 201):
        info = _json(sent)
        if "id" not in info:
            info = _confirm(target, requester, urljoin(slot["upload_url"],
                                                       sent.headers.get("Location", "")))
    else:
        raise ValueError(f"the upload of {path.name} was refused ({sent.status_code}): "
                         f"{printable(sent.text, 200)}")
    return int(info["id"])


def _confirm(target: CanvasTarget, requester: Any, url: str) -> dict[str, Any]:
    if not target.owns(url):
        raise ValueError(f"the upload asks to confirm at {printable(url)!r}, which is not "
                         f"{target.origin}: the token is not sent there")
    return _json(requester.request("GET", _url=url))


# ---- fetching ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class FetchedSubmission:
    """One learner's fetched submission: its files (as named in the folder) and its time."""

    user_id: int
    name: str
    submitted_at: datetime | None
    late: bool
    files: tuple[str, ...]
    problems: tuple[str, ...] = ()


def canvas_name(sortable_name: str) -> str:
    """A learner's name as Canvas's download writes it (``lib/content_zipper.rb``): ``_<n>_``
    runs joined, lower-cased, every non-word character removed."""
    return re.sub(r"\W", "", re.sub(r"_(\d+)_", r"\1", sortable_name).lower())


def _file_name(display_name: str) -> str:
    cleaned = re.sub(r'[\x00/\\:*?"<>|]+', "_", display_name)  # what Canvas replaces
    cleaned = "".join(c if c.isprintable() else "_" for c in cleaned)
    return re.sub(r"^\.+", "_", cleaned) or "_"


def fetch_submissions(target: CanvasTarget, dest: Path, *,
                      download: bool = True) -> list[FetchedSubmission]:
    """Download every submitted file of the assignment into `dest`, named as Canvas names them
    (``<name>[_LATE]_<user id>_<file id>_<file name>``), and return each learner's time.

    A file larger than `MAX_DOWNLOAD_BYTES`, or one whose name cannot be a file name, is skipped
    with a problem. Learners who submitted nothing are not returned. With ``download=False``
    nothing is downloaded or written: the files are those that would be (a dry run).
    """
    if download:
        dest.mkdir(parents=True, exist_ok=True)
    fetched = []
    for sub in target.assignment().get_submissions(include=["user"]):
        if not getattr(sub, "submitted_at", None):
            continue
        user = getattr(sub, "user", None) or {}
        name = canvas_name(str(user.get("sortable_name", "")))
        prefix = f"{name}{'_LATE' if sub.late else ''}_{int(sub.user_id)}"
        files, problems = [], []
        for attachment in sub.attachments:
            file_name = f"{prefix}_{int(attachment.id)}_{_file_name(attachment.display_name)}"
            if len(file_name.encode()) > 255:
                problems.append(f"{printable(attachment.display_name)}: the name is too long")
                continue
            problem = (_download(target, str(attachment.url), dest / file_name) if download
                       else None)
            if problem:
                problems.append(f"{printable(attachment.display_name)}: {problem}")
            else:
                files.append(file_name)
        submitted = datetime.fromisoformat(str(sub.submitted_at))
        fetched.append(FetchedSubmission(int(sub.user_id), str(user.get("name", "")), submitted,
                                         bool(sub.late), tuple(files), tuple(problems)))
    return sorted(fetched, key=lambda f: f.user_id)


def _download(target: CanvasTarget, url: str, path: Path) -> str | None:
    """Fetch one file into `path` (whole or not at all); the token only goes to Canvas itself."""
    headers = {"Authorization": f"Bearer {target.token}"} if target.owns(url) else {}
    tmp = path.with_name(f".{path.name}.part")
    size = 0
    with requests.get(url, headers=headers, stream=True, timeout=TIMEOUT) as response:
        response.raise_for_status()
        with tmp.open("wb") as out:
            for chunk in response.iter_content(65536):
                size += len(chunk)
                if size > MAX_DOWNLOAD_BYTES:
                    out.close()
                    tmp.unlink()
                    return f"larger than {MAX_DOWNLOAD_BYTES // 1_000_000} MB: not downloaded"
                out.write(chunk)
    os.replace(tmp, path)
    return None

