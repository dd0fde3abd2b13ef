"""``python -m autograder export|upload``: the files and uploads the commands make from the
class's final scores and grading records (nbgrader's gradebook reader is replaced here; it is
tested against a real gradebook in ``tests/test_lms_gradebook.py``)."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from autograder.__main__ import main as autograder_main
from autograder.grading.records import GradeRecord, GradingState, NotebookRecord
from autograder.lms import cli
from autograder.lms.grades import ClassScores, SubmissionScore
from tests.support.fake_canvas import FakeCanvas


@pytest.fixture
def course(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A course whose gradebook holds three Canvas learners and one of another id."""
    root = tmp_path / "course"
    root.mkdir()
    subs = {sid: SubmissionScore(sid, raw, penalty, 3.0, questions={"q1": raw})
            for sid, raw, penalty in (("canvas-111", 3.0, 0.0), ("canvas-222", 3.0, 1.0),
                                      ("canvas-333", 0.0, 0.0), ("jdoe", 2.0, 0.0))}
    feedback = {}
    for sid in subs:
        folder = root / "feedback" / sid / "ps1"
        folder.mkdir(parents=True)
        (folder / "ps1.html").write_text(f"<p>{sid}</p>")
        feedback[sid] = folder
    scores = ClassScores("ps1", 3.0, ("q1",), subs, feedback)
    state = GradingState(root / ".grading" / "ps1.jsonl")
    state.add(GradeRecord("canvas-333", "k", (NotebookRecord(
        "ps1", "not-gradable", "no notebook named ps1.ipynb (found: ps1 (1).ipynb)"),)))
    state.add(GradeRecord("canvas-111", "k", (NotebookRecord("ps1", "graded"),)))

    def read(course: Path, assignment: str) -> ClassScores:
        assert (course, assignment) == (root.resolve(), "ps1")
        return scores
    monkeypatch.setattr(cli, "read_gradebook", read)
    return root


def test_export_for_canvas_writes_the_import_file_and_names_who_is_left_out(
        course: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = autograder_main(["export", "ps1", "--course", str(course), "--format", "canvas",
                            "--canvas-assignment-id", "12345"])
    assert code == 1  # written, but jdoe has no Canvas id
    assert (course / "canvas-ps1.csv").read_text() == (
        "Student,ID,SIS User ID,SIS Login ID,Section,ps1 (12345)\n"
        "canvas-111,111,,,,3\n"
        "canvas-222,222,,,,2\n"  # 3 points minus the late penalty of 1
        "canvas-333,333,,,,\n")  # not gradable: empty, never 0
    out, err = capsys.readouterr()
    assert "3 learners, 1 of them with an empty score" in out
    assert "Left out 1 learners with no canvas id" in err and "jdoe" in err


def test_a_roster_names_everyone_and_moodle_gets_its_worksheet(
        course: Path, tmp_path: Path) -> None:
    roster = tmp_path / "worksheet.csv"
    roster.write_text("Identifier,Full name,nbgrader id\nParticipant 51,Jo Doe,jdoe\n")
    out = tmp_path / "moodle.csv"
    assert cli.export_main(["ps1", "--course", str(course), "--format", "moodle", "--roster",
                            str(roster), "--out", str(out)]) == 1
    rows = list(csv.DictReader(out.open()))
    assert [(r["Identifier"], r["Full name"], r["Grade"]) for r in rows] == [
        ("Participant 51", "Jo Doe", "2")]


def test_the_plain_csv_has_final_scores_and_empty_ones(course: Path) -> None:
    assert cli.export_main(["ps1", "--course", str(course), "--format", "csv"]) == 0
    rows = {r["student_id"]: r for r in csv.DictReader((course / "grades-ps1.csv").open())}
    assert (rows["canvas-222"]["score"], rows["canvas-333"]["score"],
            rows["canvas-333"]["status"]) == ("2", "", "not gradable")


def test_what_cannot_run_is_refused_in_one_line(
        course: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    assert cli.export_main(["ps1", "--course", str(course), "--format", "canvas"]) == 2
    assert "--canvas-assignment-id" in capsys.readouterr().err
    bad = tmp_path / "bad.csv"
    bad.write_text("who,what\n")
    assert cli.export_main(["ps1", "--course", str(course), "--format", "csv", "--roster",
                            str(bad)]) == 2
    assert "Canvas's gradebook export" in capsys.readouterr().err
    monkeypatch.delenv(cli.TOKEN_VARIABLE, raising=False)
    upload = ["ps1", "--course", str(course), "--canvas-url", "https://canvas.example.edu",
              "--canvas-course-id", "1", "--canvas-assignment-id", "2"]
    assert cli.upload_main(upload) == 2
    assert "CANVAS_API_TOKEN" in capsys.readouterr().err
    monkeypatch.setenv(cli.TOKEN_VARIABLE, "t")
    upload[4] = "http://canvas.example.edu"
    assert cli.upload_main(upload) == 2
    assert "https://" in capsys.readouterr().err


@pytest.fixture
def fake() -> Iterator[FakeCanvas]:
    with FakeCanvas() as canvas:
        for uid in (111, 222, 333):
            canvas.add_student(uid, f"L {uid}", f"{uid}, L", submitted_at="2024-03-01T09:00:00Z")
        yield canvas
        assert canvas.refused == []


def test_upload_is_a_dry_run_until_apply_and_then_sends_once(
        course: Path, fake: FakeCanvas, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(cli.TOKEN_VARIABLE, fake.token)
    args = ["upload", "ps1", "--course", str(course), "--canvas-url", fake.url,
            "--canvas-course-id", "1", "--canvas-assignment-id", str(fake.assignment_id)]
    assert autograder_main(args) == 1  # jdoe has no Canvas id: said, not guessed
    out = capsys.readouterr().out
    assert out.startswith("Would send (dry run: nothing sent; --apply sends): 5 changes")
    assert "canvas-222 (Canvas user 222): grade no grade -> 2" in out
    assert {r.method for r in fake.log} == {"GET"}
    assert autograder_main([*args, "--apply"]) == 1
    assert [s.score for s in fake.submissions.values()] == [3.0, 2.0, None]
    (comment,) = fake.submissions[333].comments
    assert comment["comment"].startswith(
        "ps1 could not be graded: no notebook named ps1.ipynb (found: ps1 (1).ipynb).")
    assert "after a late penalty of 1" in fake.submissions[222].comments[0]["comment"]
    assert fake.files[comment["attachments"][0]["id"]].data == b"<p>canvas-333</p>"
    assert (course / ".grading" / "ps1.canvas.json").exists()
    capsys.readouterr()
    sent = len([r for r in fake.log if r.method != "GET"])
    assert autograder_main([*args, "--apply"]) == 1
    assert len([r for r in fake.log if r.method != "GET"]) == sent  # nothing twice
    assert "0 changes" in capsys.readouterr().out


def test_fetch_is_a_dry_run_until_apply_then_writes_the_download_with_its_times(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    from autograder.lms.naming import LearnerKey, list_download, plan_download
    from autograder.lms.times import TIMES_FILE, read_times

    into = tmp_path / "downloaded" / "ps1"
    with FakeCanvas() as fake:
        fake.add_student(111, "John Smith", "Smith, John", submitted_at="2024-03-01T09:00:00Z",
                         files={"ps1.ipynb": b'{"cells": []}'})
        fake.add_student(222, "John Smith", "Smith, John", submitted_at="2024-03-03T10:30:00Z",
                         late=True, files={"ps1.ipynb": b'{"cells": [1]}'})
        fake.add_student(333, "Nobody Yet", "Yet, Nobody")  # submitted nothing
        monkeypatch.setenv(cli.TOKEN_VARIABLE, fake.token)
        args = ["fetch", "ps1", "--course", str(tmp_path), "--canvas-url", fake.url,
                "--canvas-course-id", "1", "--canvas-assignment-id", str(fake.assignment_id)]
        assert autograder_main(args) == 0
        out = capsys.readouterr().out
        assert out.startswith("Would fetch (dry run: nothing written; --apply fetches): 2 files "
                              "of 2 learners")
        assert "Canvas user 222: submitted 2024-03-03T10:30:00+00:00, LATE: smithjohn_LATE_222_" \
               in out
        assert not tmp_path.joinpath("downloaded").exists() and {r.method for r in fake.log} == {
            "GET"} and not any(r.path.startswith("/files/") for r in fake.log)
        assert autograder_main([*args, "--apply"]) == 0
        assert fake.refused == []
    assert "grade with: python -m autograder grade ps1 --submissions" in capsys.readouterr().out
    assert read_times(into) == {
        LearnerKey("canvas", "111"): datetime(2024, 3, 1, 9, tzinfo=UTC),
        LearnerKey("canvas", "222"): datetime(2024, 3, 3, 10, 30, tzinfo=UTC)}
    plan = plan_download(list_download(into), ["ps1"])
    assert [(lf.student_id, lf.late) for lf in plan.learners] == [("canvas-111", False),
                                                                 ("canvas-222", True)]
    assert plan.listed == 2  # the times file is not an entry of the download
    (into / "mine.txt").write_text("x")
    (into / TIMES_FILE).unlink()  # a folder no fetch made is never replaced
    monkeypatch.setenv(cli.TOKEN_VARIABLE, "t")
    assert cli.fetch_main(["ps1", "--canvas-url", "https://canvas.example.edu", "--into",
                           str(into), "--canvas-course-id", "1", "--canvas-assignment-id",
                           "2"]) == 2
    assert "no fetch put there" in capsys.readouterr().err and (into / "mine.txt").exists()
