"""Canvas upload and fetch against a fake Canvas on 127.0.0.1 that enforces Canvas's protocol:
a dry run sends nothing; --apply sends grade, file (three steps) and comment in that order; a
server error at any request, then a rerun, sends everything exactly once; fetching names files as
Canvas's download does and returns submitted_at. No other address is ever contacted."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import requests
from canvasapi.exceptions import CanvasException  # type: ignore[import-untyped]

from autograder.lms.canvas import (
    CanvasTarget,
    LearnerUpload,
    UploadError,
    canvas_name,
    fetch_submissions,
    upload,
)
from autograder.lms.naming import LearnerKey, list_download, plan_download
from tests.support.fake_canvas import FakeCanvas

COURSE = "/api/v1/courses/1/assignments/12345"  # the fake's assignment


def _class(fake: FakeCanvas) -> None:
    fake.add_student(111, "John Smith", "Smith, John", submitted_at="2024-03-01T09:00:00Z",
                     files={"ps1.ipynb": b'{"cells": []}'})
    fake.add_student(222, "John Smith", "Smith, John", submitted_at="2024-03-01T10:30:00Z",
                     files={"ps1.ipynb": b'{"cells": [1]}'}, score=1.0)
    fake.add_student(333, "Ann O'Lee", "O'Lee, Ann", submitted_at="2024-03-03T08:00:00Z",
                     late=True, files={"ps1.ipynb": b'{"cells": [2]}'})


@pytest.fixture
def fake() -> Iterator[FakeCanvas]:
    with FakeCanvas() as canvas:
        _class(canvas)
        yield canvas
        assert canvas.refused == []  # nothing but the fake was ever contacted


def _target(fake: FakeCanvas) -> CanvasTarget:
    return CanvasTarget(fake.url, fake.token, fake.course_id, fake.assignment_id)


def _learners(tmp_path: Path) -> list[LearnerUpload]:
    out = []
    for uid, grade in ((111, 2.5), (222, 3.0), (333, None)):
        folder = tmp_path / "feedback" / f"canvas-{uid}" / "ps1"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "ps1.html").write_text(f"<html>feedback of {uid}</html>")
        text = "ps1 could not be graded: resubmit" if grade is None else f"ps1: {grade} / 3"
        out.append(LearnerUpload(uid, f"canvas-{uid}", grade, text, (folder / "ps1.html",)))
    return out


def _mutations(fake: FakeCanvas) -> list[tuple[str, str]]:
    return [(r.method, r.path) for r in fake.log if r.method != "GET" and r.status < 400]


def test_a_dry_run_reads_and_reports_but_sends_nothing(fake: FakeCanvas, tmp_path: Path) -> None:
    shown: list[str] = []
    report = upload(_target(fake), _learners(tmp_path), state_path=tmp_path / "state.json",
                    echo=shown.append)
    assert [r.method for r in fake.log] == ["GET"] * len(fake.log) and fake.log
    assert not (tmp_path / "state.json").exists()
    assert [str(c) for c in report.changes] == [
        "canvas-111 (Canvas user 111): grade no grade -> 2.5",
        "canvas-111 (Canvas user 111): comment 'ps1: 2.5 / 3' with ps1.html",
        "canvas-222 (Canvas user 222): grade 1 -> 3",
        "canvas-222 (Canvas user 222): comment 'ps1: 3.0 / 3' with ps1.html",
        "canvas-333 (Canvas user 333): comment 'ps1 could not be graded: resubmit' with ps1.html",
    ]
    assert report.sent == [] and shown == [report.text()]
    assert shown[0].startswith("Would send (dry run: nothing sent; --apply sends): 5 changes")
    # the client followed Canvas's pagination (2 per page): all three learners were read
    pages = [r for r in fake.log if r.path.endswith("/submissions")]
    assert [dict(r.query).get("page") for r in pages] == [None, "2"]


@pytest.mark.parametrize("mode", ["created", "redirect"])
def test_apply_sends_the_right_calls_in_order_and_a_rerun_sends_nothing(
        tmp_path: Path, mode: str) -> None:
    with FakeCanvas(upload_mode=mode) as fake:
        _class(fake)
        learners = _learners(tmp_path)
        report = upload(_target(fake), learners, state_path=tmp_path / "s.json", apply=True)
        sub = rf"{COURSE}/submissions/(\d+)"
        steps = [("PUT", f"{COURSE}/submissions/111"),
                 ("POST", f"{COURSE}/submissions/111/comments/files"),
                 ("POST", "upload"), ("PUT", f"{COURSE}/submissions/111")]
        got = [(m, "upload" if p.startswith("/files_api/") else p) for m, p in _mutations(fake)]
        assert got[:4] == steps
        assert len(got) == 4 + 4 + 3  # 333 could not be graded: comment only, grade untouched
        puts = fake.succeeded("PUT", sub)
        assert [r.param("submission[posted_grade]") for r in puts] == [
            ["2.5"], [], ["3"], [], []]
        uploads = [r for r in fake.log if r.path.startswith("/files_api/")]
        assert all(not r.authorized for r in uploads)  # the token never goes to the upload URL
        assert [k for k, _ in uploads[0].form][-1] == "file"  # the file comes last
        if mode == "redirect":  # the confirmation is fetched, with the token
            confirms = fake.succeeded("GET", r"/api/v1/files/\d+/create_success")
            assert len(confirms) == 3 and all(r.authorized for r in confirms)
        assert (fake.submissions[111].score, fake.submissions[222].score,
                fake.submissions[333].score) == (2.5, 3.0, None)
        (comment,) = fake.submissions[111].comments
        assert comment["comment"] == "ps1: 2.5 / 3"
        (attached,) = comment["attachments"]
        assert fake.files[attached["id"]].data == b"<html>feedback of 111</html>"
        assert len(report.sent) == 5
        before = len(fake.log)
        again = upload(_target(fake), learners, state_path=tmp_path / "s.json", apply=True)
        assert again.changes == [] and _mutations(fake) == _mutations(fake)[:11]
        assert all(r.method == "GET" for r in fake.log[before:])
        assert fake.refused == []


def _exactly_once(fake: FakeCanvas) -> None:
    for uid, sub in fake.submissions.items():
        assert len(sub.comments) == 1, uid
        assert sub.grade_changes == (0 if uid == 333 else 1), uid
        confirmed = [f for f in fake.files.values() if f.purpose == "comment"
                     and f.user_id == uid and f.state == "available"]
        assert len(confirmed) == 1 and confirmed[0].attached, uid
    graded = Counter(r.path for r in fake.succeeded("PUT", rf"{COURSE}/submissions/\d+")
                     if r.param("submission[posted_grade]"))
    commented = Counter(r.path for r in fake.succeeded("PUT", rf"{COURSE}/submissions/\d+")
                        if r.param("comment[text_comment]"))
    stored = Counter(r.path for r in fake.log if r.path.startswith("/files_api/")
                     and r.status < 400)
    assert set(graded.values()) == {1} and len(graded) == 2
    assert set(commented.values()) == {1} and len(commented) == 3
    assert set(stored.values()) == {1} and len(stored) == 3


# Requests of a full upload: 0-3 read (course, assignment, 2 pages of submissions); then per
# learner: grade PUT, file slot POST, file upload POST, comment PUT (333: no grade, 3 requests).
SENDS = 4 + 4 + 4 + 3


def test_the_request_numbers_below_are_a_full_upload(fake: FakeCanvas, tmp_path: Path) -> None:
    upload(_target(fake), _learners(tmp_path), state_path=tmp_path / "s.json", apply=True)
    assert len(fake.log) == SENDS
    assert [r.method for r in fake.log[8:12]] == ["PUT", "POST", "POST", "PUT"]
    assert fake.log[10].path.startswith("/files_api/")


@pytest.mark.parametrize("failing", [3, 8, 9, 10, 11, 14],
                         ids=["read", "grade", "slot", "upload", "comment", "last"])
def test_a_server_error_half_way_then_a_rerun_sends_everything_exactly_once(
        tmp_path: Path, failing: int) -> None:
    state = tmp_path / "state.json"
    with FakeCanvas() as fake:
        _class(fake)
        learners = _learners(tmp_path)
        fake.fail_after(failing)
        with pytest.raises(UploadError) as err:
            upload(_target(fake), learners, state_path=state, apply=True)
        assert fake.log[failing].status == 500 and len(fake.log) == failing + 1
        if failing >= 4:  # stopped while sending: what was sent is kept, the rest is missing
            assert "run the same command again" in str(err.value)
            assert fake.submissions[333].comments == []
        upload(_target(fake), learners, state_path=state, apply=True)
        _exactly_once(fake)
        assert fake.refused == []


def test_a_lost_answer_is_found_in_canvas_and_not_sent_again(fake: FakeCanvas,
                                                             tmp_path: Path) -> None:
    learners = _learners(tmp_path)
    state = tmp_path / "s.json"
    upload(_target(fake), learners, state_path=state, apply=True)
    data = json.loads(state.read_text())
    for record in data["learners"].values():  # as if each answer had been lost on the way
        record.pop("feedback")
        record.pop("grade", None)
    state.write_text(json.dumps(data))
    again = upload(_target(fake), learners, state_path=state, apply=True)
    assert again.changes == [] and len(again.already) == 3
    _exactly_once(fake)


def test_learners_canvas_does_not_know_and_foreign_state_are_refused(
        fake: FakeCanvas, tmp_path: Path) -> None:
    stranger = LearnerUpload(999, "canvas-999", 1.0, "hi")
    report = upload(_target(fake), [stranger], state_path=tmp_path / "s.json", apply=True)
    assert report.sent == [] and "no submission in this Canvas assignment" in report.problems[0]
    assert _mutations(fake) == []
    (tmp_path / "other.json").write_text(json.dumps(
        {"canvas": fake.url, "course": 1, "assignment": 7, "learners": {}}))
    with pytest.raises(UploadError, match="another Canvas assignment"):
        upload(_target(fake), [], state_path=tmp_path / "other.json")


def test_canvasapis_own_upload_comment_is_refused_at_the_confirmation(tmp_path: Path) -> None:
    """Why the upload is written out: canvasapi follows the redirect without the token."""
    with FakeCanvas(upload_mode="redirect") as fake:
        _class(fake)
        sub = _target(fake).assignment().get_submission(111)
        (tmp_path / "f.html").write_text("x")
        with pytest.raises(CanvasException, match="Invalid access token"):
            sub.upload_comment(str(tmp_path / "f.html"))
        assert fake.submissions[111].comments == []
        assert fake.log[-1].path.endswith("/create_success") and fake.log[-1].status == 401


def test_the_fake_refuses_wrong_calls_as_canvas_does(fake: FakeCanvas) -> None:
    url, auth = fake.url, {"Authorization": f"Bearer {fake.token}"}
    assert requests.get(f"{url}{COURSE}", timeout=5).status_code == 401
    bad = requests.put(f"{url}{COURSE}/submissions/111", headers=auth, timeout=5,
                       data={"submission[score]": "3"})
    assert bad.status_code == 400 and "submission[score]" in bad.json()["errors"][0]["message"]
    slot = requests.post(f"{url}{COURSE}/submissions/111/comments/files", headers=auth,
                         data={"name": "f.html", "size": "1"}, timeout=5).json()
    attach = requests.put(f"{url}{COURSE}/submissions/111", headers=auth, timeout=5,
                          data={"comment[file_ids][]": str(max(fake.files))})
    assert attach.status_code == 400  # not uploaded yet
    token_sent = requests.post(slot["upload_url"], data=slot["upload_params"], headers=auth,
                               files={"file": ("f.html", b"x")}, timeout=5)
    assert token_sent.status_code == 403
    file_first = requests.post(slot["upload_url"], files=[("file", ("f.html", b"x")), *(
        (k, (None, v)) for k, v in slot["upload_params"].items())], timeout=5)
    assert file_first.status_code == 400
    assert requests.get(f"{url}/api/v1/nothing", headers=auth, timeout=5).status_code == 404


def test_no_address_but_the_fake_is_ever_contacted(fake: FakeCanvas) -> None:
    with pytest.raises(requests.ConnectionError):
        requests.get("http://example.org/", timeout=5)
    with pytest.raises(requests.ConnectionError):
        requests.get("http://127.0.0.1:9/", timeout=5)
    assert fake.refused == [("lookup", "example.org"), ("connect", "127.0.0.1", 9)]
    fake.refused.clear()


def test_fetch_names_files_as_canvas_does_and_returns_submitted_at(
        fake: FakeCanvas, tmp_path: Path) -> None:
    got = fetch_submissions(_target(fake), tmp_path / "download")
    assert [(f.user_id, f.submitted_at, f.late) for f in got] == [
        (111, datetime(2024, 3, 1, 9, 0, tzinfo=UTC), False),
        (222, datetime(2024, 3, 1, 10, 30, tzinfo=UTC), False),
        (333, datetime(2024, 3, 3, 8, 0, tzinfo=UTC), True)]
    names = [name for f in got for name in f.files]
    assert names[0].startswith("smithjohn_111_") and names[2].startswith("oleeann_LATE_333_")
    assert (tmp_path / "download" / names[1]).read_bytes() == b'{"cells": [1]}'
    plan = plan_download(list_download(tmp_path / "download"), ["ps1"])
    assert [(lf.key, lf.late, len(lf.files)) for lf in plan.learners] == [
        (LearnerKey("canvas", "111"), False, 1), (LearnerKey("canvas", "222"), False, 1),
        (LearnerKey("canvas", "333"), True, 1)]
    assert canvas_name("Van_12_Dyke, Jo-Ann") == "van12dykejoann"


def test_the_target_keeps_the_token_off_plain_http() -> None:
    with pytest.raises(ValueError, match="https://"):
        CanvasTarget("http://canvas.example.edu", "t", 1, 2)
    with pytest.raises(ValueError, match="alone"):
        CanvasTarget("https://canvas.example.edu/api/v1", "t", 1, 2)
    target = CanvasTarget("https://canvas.example.edu", "secret", 1, 2)
    assert "secret" not in repr(target)
    assert target.owns("https://canvas.example.edu/files/1") and not target.owns(
        "https://files.example.com/1")
