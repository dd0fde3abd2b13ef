"""A fake Canvas on 127.0.0.1 that enforces Canvas's protocol for the calls the upload uses.

``with FakeCanvas() as canvas:`` serves a course with one assignment on a free port of
127.0.0.1 (in a thread) and, for as long as it runs, lets this process open no connection but to
it: any other address or port is refused and recorded in ``canvas.refused`` (tests assert it is
empty). Every request is recorded (``canvas.log``). The calls, as Canvas documents them:

- ``GET /api/v1/courses/:course_id`` and ``.../assignments/:assignment_id``;
- ``GET .../assignments/:id/submissions`` (``include[]=user|submission_comments``), paginated
  with ``page``/``per_page`` and a ``Link`` header (``rel="next"``, ...): ``per_page`` is capped
  at ``max_per_page``, as Canvas caps it, so a client that ignores ``Link`` misses learners;
- ``GET`` and ``PUT .../submissions/:user_id`` with ``submission[posted_grade]``,
  ``comment[text_comment]`` and ``comment[file_ids][]`` (form-encoded);
- the file upload for submission comments (``doc/api/file_uploads.md``): 1. ``POST
  .../submissions/:user_id/comments/files`` with ``name``, ``size``, ``content_type`` returns
  ``upload_url`` and ``upload_params``; 2. a multipart ``POST`` to ``upload_url`` *without* the
  access token, every ``upload_params`` field unchanged and the ``file`` last; 3. either ``201
  Created`` with the file's JSON (``upload_mode="created"``, as Instructure's hosting answers) or
  a redirect whose ``Location`` must be fetched with the token to confirm
  (``upload_mode="redirect"``); only then may ``comment[file_ids][]`` name the file, once;
- ``GET /files/:id/download?verifier=...``: an attachment's bytes.

Wrong calls get Canvas-like errors (``{"errors": [{"message": ...}]}``): 401 without the bearer
token, 404 for an unknown route or id, 400 for a missing or unknown parameter. Stricter than
Canvas in one way: Canvas ignores unknown parameters, this fake refuses them, so a misspelt
parameter (which Canvas would silently drop) fails the test. ``fail_after(n)`` makes the request
n+1 from now answer 500 without doing anything.

Written by hand on ``http.server``: no library fakes Canvas's upload protocol.
"""

from __future__ import annotations

import email.parser
import email.policy
import hashlib
import itertools
import json
import re
import secrets
import socket
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

__all__ = ["FakeCanvas", "Recorded"]


@dataclass(frozen=True)
class Recorded:
    """One request as the server saw it, and the status it answered."""

    method: str
    path: str
    query: tuple[tuple[str, str], ...]
    form: tuple[tuple[str, str], ...]  # url-encoded or multipart fields (file parts: filename)
    authorized: bool  # sent the bearer token
    status: int

    def param(self, name: str) -> list[str]:
        return [v for k, v in (*self.query, *self.form) if k == name]


@dataclass
class _File:
    id: int
    user_id: int
    purpose: str  # "submission" (the learner's upload) or "comment"
    display_name: str
    content_type: str
    data: bytes = b""
    size: int | None = None
    state: str = "pending"  # pending -> available (after upload and confirmation)
    slot: str = ""  # the one-time upload token of step 1
    upload_params: dict[str, str] = field(default_factory=dict)
    verifier: str = field(default_factory=lambda: secrets.token_hex(8))
    attached: bool = False


@dataclass
class _Submission:
    user_id: int
    name: str
    sortable_name: str
    submitted_at: str | None
    late: bool
    attachments: list[int] = field(default_factory=list)
    score: float | None = None
    grade: str | None = None
    comments: list[dict[str, Any]] = field(default_factory=list)
    grade_changes: int = 0


class _Reply(Exception):
    def __init__(self, status: int, body: Any, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(status)
        self.status, self.body, self.headers = status, body, dict(headers or {})


def _error(status: int, message: str, headers: Mapping[str, str] | None = None) -> _Reply:
    return _Reply(status, {"errors": [{"message": message}]}, headers)


class FakeCanvas:
    """A Canvas course (``course_id``) with one assignment (``assignment_id``) and its learners."""

    def __init__(self, *, token: str = "test-token", course_id: int = 1,
                 assignment_id: int = 12345, max_per_page: int = 2,
                 upload_mode: str = "created") -> None:
        if upload_mode not in ("created", "redirect"):
            raise ValueError("upload_mode is 'created' or 'redirect'")
        self.token, self.course_id, self.assignment_id = token, course_id, assignment_id
        self.max_per_page, self.upload_mode = max_per_page, upload_mode
        self.submissions: dict[int, _Submission] = {}
        self.files: dict[int, _File] = {}
        self.log: list[Recorded] = []
        self.refused: list[tuple[Any, ...]] = []  # connections this process tried elsewhere
        self._ids = itertools.count(5001)
        self._lock = threading.Lock()
        self._fail_at: int | None = None
        self._server: ThreadingHTTPServer | None = None
        self._unguard: Callable[[], None] | None = None

    # ---- set up ----------------------------------------------------------------------------
    def add_student(self, user_id: int, name: str, sortable_name: str, *,
                    submitted_at: str | None = None, late: bool = False,
                    files: Mapping[str, bytes] | None = None, score: float | None = None) -> None:
        sub = _Submission(user_id, name, sortable_name, submitted_at, late, score=score,
                          grade=None if score is None else f"{score:g}")
        for display, data in (files or {}).items():
            fid = next(self._ids)
            self.files[fid] = _File(fid, user_id, "submission", display,
                                    "application/x-ipynb+json", data, len(data), "available")
            sub.attachments.append(fid)
        self.submissions[user_id] = sub

    def fail_after(self, count: int) -> None:
        """The request `count` + 1 from now answers 500 and changes nothing (once)."""
        self._fail_at = len(self.log) + count + 1

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the fake Canvas is not running: use it as a context manager")
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> FakeCanvas:
        handler = type("Handler", (_Handler,), {"canvas": self})
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.01},
                         daemon=True).start()
        self._unguard = _guard(self._server.server_address[1], self.refused)
        return self

    def __exit__(self, kind: type[BaseException] | None, err: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self._unguard:
            self._unguard()
        if self._server:
            self._server.shutdown()
            self._server.server_close()

    # ---- what was sent ---------------------------------------------------------------------
    def succeeded(self, method: str, pattern: str) -> list[Recorded]:
        """The requests of `method` whose path matches `pattern` and that succeeded."""
        return [r for r in self.log if r.method == method and re.fullmatch(pattern, r.path)
                and r.status < 400]

    # ---- JSON as Canvas writes it ----------------------------------------------------------
    def _file_json(self, f: _File) -> dict[str, Any]:
        return {"id": f.id, "display_name": f.display_name, "filename": f.display_name,
                "content-type": f.content_type, "size": len(f.data),
                "url": f"{self.url}/files/{f.id}/download?download_frd=1&verifier={f.verifier}"}

    def _submission_json(self, sub: _Submission, include: set[str]) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": 9000 + sub.user_id, "user_id": sub.user_id, "assignment_id": self.assignment_id,
            "course_id": self.course_id, "score": sub.score, "grade": sub.grade,
            "submitted_at": sub.submitted_at, "late": sub.late,
            "workflow_state": "graded" if sub.score is not None else (
                "submitted" if sub.submitted_at else "unsubmitted"),
            "submission_type": "online_upload" if sub.attachments else None,
            "attachments": [self._file_json(self.files[i]) for i in sub.attachments]}
        if "submission_comments" in include:
            out["submission_comments"] = sub.comments
        if "user" in include:
            out["user"] = {"id": sub.user_id, "name": sub.name,
                           "sortable_name": sub.sortable_name}
        return out

    # ---- routes ----------------------------------------------------------------------------
    def handle(self, method: str, path: str, query: list[tuple[str, str]],
               form: list[tuple[str, str]], parts: list[tuple[str, str, bytes]],
               authorized: bool) -> tuple[int, Any, dict[str, str]]:
        api = path.startswith("/api/v1/")
        if api and not authorized:
            raise _error(401, "Invalid access token.",
                         {"WWW-Authenticate": 'Bearer realm="canvas-lms"'})
        base = rf"/api/v1/courses/{self.course_id}/assignments/{self.assignment_id}"
        if method == "GET" and path == f"/api/v1/courses/{self.course_id}":
            return 200, {"id": self.course_id, "name": "Async Python"}, {}
        if method == "GET" and path == base:
            return 200, {"id": self.assignment_id, "course_id": self.course_id, "name": "ps1",
                         "points_possible": 3.0}, {}
        if method == "GET" and path == f"{base}/submissions":
            return self._list(query)
        if m := re.fullmatch(rf"{base}/submissions/(\d+)", path):
            sub = self._learner(int(m[1]))
            include = {v for k, v in query if k == "include[]"}
            if method == "GET":
                return 200, self._submission_json(sub, include), {}
            if method == "PUT":
                return 200, self._update(sub, form), {}
        if method == "POST" and (m := re.fullmatch(rf"{base}/submissions/(\d+)/comments/files",
                                                   path)):
            return self._slot(self._learner(int(m[1])), form)
        if method == "POST" and (m := re.fullmatch(r"/files_api/upload/(\w+)", path)):
            return self._receive(m[1], parts, authorized)
        if method == "GET" and (m := re.fullmatch(r"/api/v1/files/(\d+)/create_success", path)):
            f = self._file(int(m[1]))
            if dict(query).get("uuid") != f.slot or f.state != "uploaded":
                raise _error(400, "no upload to confirm")
            f.state = "available"
            return 200, self._file_json(f), {}
        if method == "GET" and (m := re.fullmatch(r"/api/v1/files/(\d+)", path)):
            f = self._file(int(m[1]))
            if f.state != "available":
                raise _error(404, "The specified resource does not exist.")
            return 200, self._file_json(f), {}
        if method == "GET" and (m := re.fullmatch(r"/files/(\d+)/download", path)):
            f = self._file(int(m[1]))
            if dict(query).get("verifier") != f.verifier and not authorized:
                raise _error(401, "user authorization required")
            return 200, f.data, {"Content-Type": f.content_type}
        raise _error(404, "The specified resource does not exist.")

    def _learner(self, user_id: int) -> _Submission:
        if user_id not in self.submissions:
            raise _error(404, "The specified resource does not exist.")
        return self.submissions[user_id]

    def _file(self, file_id: int) -> _File:
        if file_id not in self.files:
            raise _error(404, "The specified resource does not exist.")
        return self.files[file_id]

    def _list(self, query: list[tuple[str, str]]) -> tuple[int, Any, dict[str, str]]:
        params = dict(query)
        unknown = {k for k, _ in query} - {"include[]", "page", "per_page"}
        if unknown:
            raise _error(400, f"unexpected parameter {sorted(unknown)[0]}")
        per_page = max(1, min(int(params.get("per_page", 10)), self.max_per_page))
        page = max(1, int(params.get("page", 1)))
        include = {v for k, v in query if k == "include[]"}
        everyone = sorted(self.submissions.values(), key=lambda s: s.user_id)
        last = max(1, -(-len(everyone) // per_page))
        chunk = everyone[(page - 1) * per_page: page * per_page]
        here = f"{self.url}/api/v1/courses/{self.course_id}/assignments/{self.assignment_id}" \
               "/submissions"

        def link(n: int) -> str:
            keep = [(k, v) for k, v in query if k not in ("page", "per_page")]
            return f"{here}?{urlencode([*keep, ('page', n), ('per_page', per_page)])}"
        rels = [("current", page), ("first", 1), ("last", last)]
        if page < last:
            rels.insert(0, ("next", page + 1))
        header = ",".join(f'<{link(n)}>; rel="{rel}"' for rel, n in rels)
        return 200, [self._submission_json(s, include) for s in chunk], {"Link": header}

    def _update(self, sub: _Submission, form: list[tuple[str, str]]) -> dict[str, Any]:
        allowed = {"submission[posted_grade]", "comment[text_comment]", "comment[file_ids][]"}
        unknown = sorted({k for k, _ in form} - allowed)
        if unknown or not form:
            raise _error(400, f"unexpected parameter {unknown[0]}" if unknown else
                         "nothing to update: send submission[posted_grade] or a comment")
        values = dict(form)
        file_ids = [v for k, v in form if k == "comment[file_ids][]"]
        files = []
        for raw in file_ids:
            f = self.files.get(int(raw)) if raw.isdigit() else None
            if (f is None or f.purpose != "comment" or f.user_id != sub.user_id
                    or f.state != "available" or f.attached):
                raise _error(400, f"file {raw} was not uploaded (and confirmed) for this "
                                  "submission's comments, or is attached already")
            files.append(f)
        if "submission[posted_grade]" in values:
            posted = values["submission[posted_grade]"]
            try:
                score = None if posted == "" else float(posted)
            except ValueError:
                raise _error(400, f"posted_grade {posted!r} is not a number of points") from None
            if score is not None and score < 0:
                raise _error(400, "a grade is never negative")
            sub.score, sub.grade = score, posted or None
            sub.grade_changes += 1
        text = values.get("comment[text_comment]", "")
        if files or text:
            for f in files:
                f.attached = True
            sub.comments.append({"id": next(self._ids), "author_id": 1, "comment": text,
                                 "attachments": [self._file_json(f) for f in files]})
        elif "comment[text_comment]" in values:
            raise _error(400, "a comment needs text or files")
        return self._submission_json(sub, set())

    def _slot(self, sub: _Submission, form: list[tuple[str, str]]) -> tuple[int, Any,
                                                                           dict[str, str]]:
        values = dict(form)
        unknown = sorted(set(values) - {"name", "size", "content_type"})
        if unknown:
            raise _error(400, f"unexpected parameter {unknown[0]}")
        if not values.get("name"):
            raise _error(400, "name is required")
        fid, slot = next(self._ids), secrets.token_hex(8)
        f = _File(fid, sub.user_id, "comment", values["name"],
                  values.get("content_type", "application/octet-stream"),
                  size=int(values["size"]) if values.get("size", "").isdigit() else None,
                  slot=slot)
        f.upload_params = {"key": f"attachments/{fid}/{f.display_name}", "filename":
                           f.display_name, "content_type": f.content_type,
                           "x-fake-signature": hashlib.sha256(slot.encode()).hexdigest()[:16]}
        self.files[fid] = f
        return 200, {"upload_url": f"{self.url}/files_api/upload/{slot}",
                     "upload_params": f.upload_params}, {}

    def _receive(self, slot: str, parts: list[tuple[str, str, bytes]],
                 authorized: bool) -> tuple[int, Any, dict[str, str]]:
        f = next((f for f in self.files.values() if f.slot == slot and f.state == "pending"),
                 None)
        if f is None:
            raise _error(400, "unknown or used upload slot")
        if authorized:
            raise _error(403, "the access token is not sent to the upload URL")
        expected = [*f.upload_params, "file"]
        names = [name for name, _, _ in parts]
        fields = {name: data.decode() for name, filename, data in parts if name != "file"}
        if names != expected or fields != f.upload_params:
            raise _error(400, "the upload must send every upload_params field unchanged, "
                              "then the file last")
        data = parts[-1][2]
        if f.size is not None and len(data) != f.size:
            raise _error(400, f"the file has {len(data)} bytes, step 1 announced {f.size}")
        f.data = data
        if self.upload_mode == "created":
            f.state = "available"
            return 201, self._file_json(f), {"Location": f"{self.url}/api/v1/files/{f.id}"}
        f.state = "uploaded"
        return 301, b"", {"Location": f"{self.url}/api/v1/files/{f.id}/create_success?uuid={slot}"}


class _Handler(BaseHTTPRequestHandler):
    canvas: FakeCanvas
    disable_nagle_algorithm = True  # headers and body go out in two writes: no 40 ms stalls

    def log_message(self, format: str, *args: Any) -> None:
        pass  # the record is canvas.log

    def _serve(self) -> None:
        canvas = self.canvas
        split = urlsplit(self.path)
        query = parse_qsl(split.query, keep_blank_values=True)
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        kind = self.headers.get("Content-Type", "")
        form: list[tuple[str, str]] = []
        parts: list[tuple[str, str, bytes]] = []
        if kind.startswith("application/x-www-form-urlencoded"):
            form = parse_qsl(body.decode(), keep_blank_values=True)
        elif kind.startswith("multipart/form-data"):
            parts = _multipart(kind, body)
            form = [(n, fn if n == "file" else d.decode(errors="replace")) for n, fn, d in parts]
        authorized = self.headers.get("Authorization") == f"Bearer {canvas.token}"
        with canvas._lock:
            number = len(canvas.log) + 1
            try:
                if canvas._fail_at == number:
                    canvas._fail_at = None
                    raise _error(500, "An error occurred.")
                status, payload, headers = canvas.handle(self.command, split.path, query, form,
                                                         parts, authorized)
            except _Reply as reply:
                status, payload, headers = reply.status, reply.body, reply.headers
            canvas.log.append(Recorded(self.command, split.path, tuple(query), tuple(form),
                                       authorized, status))
        data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        self.send_response(status)
        if not isinstance(payload, bytes):
            self.send_header("Content-Type", "application/json; charset=utf-8")
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_DELETE = _serve


def _multipart(content_type: str, body: bytes) -> list[tuple[str, str, bytes]]:
    """(field name, file name, bytes) of each part, in the order sent."""
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        f"Content-Type: {content_type}\r\n\r\n".encode() + body)
    out = []
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition") or ""
        payload = part.get_payload(decode=True)
        out.append((str(name), part.get_filename() or "",
                    payload if isinstance(payload, bytes) else b""))
    return out


def _guard(port: int, refused: list[tuple[Any, ...]]) -> Callable[[], None]:
    """Refuse every connection of this process except to 127.0.0.1:`port`, recording the others.

    Name lookups are refused too (other than 127.0.0.1 and localhost): a client that was sent
    elsewhere fails before any packet leaves the machine.
    """
    connect, getaddrinfo = socket.socket.connect, socket.getaddrinfo

    def checked_connect(sock: socket.socket, address: Any) -> None:
        if sock.family in (socket.AF_INET, socket.AF_INET6) and (
                address[0] not in ("127.0.0.1", "::1") or address[1] != port):
            refused.append(("connect", *address[:2]))
            raise ConnectionRefusedError(f"the tests may contact only 127.0.0.1:{port}")
        connect(sock, address)

    def checked_getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host not in ("127.0.0.1", "localhost", "::1", b"127.0.0.1", b"localhost"):
            refused.append(("lookup", host))
            raise socket.gaierror(socket.EAI_NONAME, f"the tests may not look up {host!r}")
        return getaddrinfo(host, *args, **kwargs)

    socket.socket.connect = checked_connect  # type: ignore[method-assign,assignment]
    socket.getaddrinfo = checked_getaddrinfo

    def restore() -> None:
        socket.socket.connect = connect  # type: ignore[method-assign]
        socket.getaddrinfo = getaddrinfo

    return restore
