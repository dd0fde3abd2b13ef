"""The LMS round trip end to end: fetch from Canvas, grade, export, upload, and a Moodle download.

A small ps1 class on the fake Canvas (``tests/support/fake_canvas.py``, 127.0.0.1 only): two
learners of the same name (Canvas users 111 and 222), one late (333, fetched with its
``submitted_at``), one who uploaded ``ps1 (1).ipynb`` (444). The course has a due date in its
gradebook and a late-penalty plugin in its ``nbgrader_config.py`` (1 point per started day).
``fetch`` (dry run, then ``--apply``), ``grade --submissions`` (``--no-sandbox``: the sandbox is
not the point here), ``export --format canvas``, ``upload`` (dry run, then ``--apply`` with a
server error half-way, then again): every file and request is checked. Then a Moodle download
(flat and "in folders") is graded into the same course and exported for Moodle, and one of its
learners resubmits a broken notebook: not gradable, her earlier grade stays.
"""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import nbformat
import pytest

from autograder.__main__ import main as autograder_main
from autograder.lms import cli
from tests.support import fakeclass
from tests.support.course import COURSE_ID, Course
from tests.support.fake_canvas import FakeCanvas
from tests.support.fakeclass import Learner
from tests.support.paths import REPO, tool_env

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("lms_roundtrip"),
              pytest.mark.filterwarnings("ignore::sqlalchemy.exc.SAWarning")]

DUE = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)
PENALTY = '''
from nbgrader.plugins import LateSubmissionPlugin


class OnePointPerDay(LateSubmissionPlugin):
    """Tests: 1 point per started day late."""

    def late_submission_penalty(self, student_id, score, total_seconds_late):
        return float(-(-total_seconds_late // 86400))


c.AssignLatePenalties.plugin_class = OnePointPerDay
'''
ROSTER = ("Student,ID,SIS User ID,SIS Login ID,Section\n"
          "    Points Possible,,,,\n"
          '"Smith, John",111,S111,jsmith,A\n"Smith, John",222,S222,jsmith2,B\n'
          '"Lee, Ann",333,S333,alee,A\n"Ngo, Mai",444,S444,mngo,B\n')
CANVAS = ["canvas-111", "canvas-222", "canvas-333", "canvas-444"]


def _notebook(course: Course, kind: str) -> bytes:
    return nbformat.writes(fakeclass.answer(course, Learner("x", kind))).encode()


def _grade(course: Course, *args: str) -> subprocess.CompletedProcess[str]:
    env = tool_env()
    env["PYTHONPATH"] = str(REPO)
    done = subprocess.run([sys.executable, "-m", "autograder", "grade", "ps1", "--quiet",
                           "--no-sandbox", "--no-canary", "--workers", "2", "--feedback", *args],
                          cwd=course.root, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    return done


def _csv(course: Course) -> dict[str, dict[str, str]]:
    with (course.root / "grades-ps1.csv").open() as fh:
        return {row["student_id"]: row for row in csv.DictReader(fh)}


def _mutations(fake: FakeCanvas) -> list[tuple[str, str]]:
    return [(r.method, r.path) for r in fake.log if r.method != "GET" and r.status < 400]


@pytest.fixture(scope="module")
def trip(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The whole round trip, once; each test reads what one step left."""
    from nbgrader.api import Gradebook

    root = tmp_path_factory.mktemp("lms")
    course = Course.create(root / "course", ["ps1"])
    with open(course.root / "nbgrader_config.py", "a") as fh:
        fh.write(PENALTY)
    with Gradebook(course.db_url, COURSE_ID) as gb:
        gb.update_or_create_assignment("ps1", duedate=DUE.replace(tzinfo=None))
    (root / "roster.csv").write_text(ROSTER)
    out: dict[str, Any] = {"course": course, "root": root}
    with FakeCanvas(max_per_page=2) as fake, pytest.MonkeyPatch.context() as mp:
        mp.setenv(cli.TOKEN_VARIABLE, fake.token)
        reference, blank = _notebook(course, "reference"), _notebook(course, "blank")
        on_time = (DUE - timedelta(hours=1)).isoformat().replace("+00:00", "Z")
        fake.add_student(111, "John Smith", "Smith, John", submitted_at=on_time,
                         files={"ps1.ipynb": reference})
        fake.add_student(222, "John Smith", "Smith, John", submitted_at=on_time,
                         files={"ps1.ipynb": blank})
        fake.add_student(333, "Ann Lee", "Lee, Ann", late=True, files={"ps1.ipynb": reference},
                         submitted_at=(DUE + timedelta(days=1, hours=1)).isoformat())
        fake.add_student(444, "Mai Ngo", "Ngo, Mai", submitted_at=on_time,
                         files={"ps1 (1).ipynb": reference})
        canvas = ["--canvas-url", fake.url, "--canvas-course-id", str(fake.course_id),
                  "--canvas-assignment-id", str(fake.assignment_id)]
        download = root / "download"
        fetch = ["fetch", "ps1", "--course", str(course.root), "--into", str(download), *canvas]
        out["fetch_dry"] = (autograder_main(fetch), download.exists())
        out["fetch"] = autograder_main([*fetch, "--apply"])
        (download / "README.txt").write_text("downloaded from Canvas")  # names no learner
        out["graded"] = _grade(course, "--submissions", str(download), "--roster",
                               str(root / "roster.csv")).stdout
        out["csv"] = _csv(course)  # as the Canvas class left it (the Moodle runs add rows)
        out["export"] = autograder_main(["export", "ps1", "--course", str(course.root),
                                         "--format", "canvas", "--canvas-assignment-id",
                                         str(fake.assignment_id), "--roster",
                                         str(root / "roster.csv")])
        upload = ["upload", "ps1", "--course", str(course.root), *canvas]
        before = len(fake.log)
        out["dry"] = autograder_main(upload)
        out["dry_requests"] = fake.log[before:]
        fake.fail_after(10)  # the 11th request of the next run: 222's feedback file upload
        out["failed"] = autograder_main([*upload, "--apply"])
        out["after_failure"] = {uid: (s.score, len(s.comments))
                                for uid, s in fake.submissions.items()}
        out["applied"] = autograder_main([*upload, "--apply"])
        before = len(fake.log)
        out["again"] = autograder_main([*upload, "--apply"])
        out["again_requests"] = fake.log[before:]
        out["fake"] = fake
    moodle = root / "moodle"
    (moodle / "John Smith_12346_assignsubmission_file").mkdir(parents=True)
    (moodle / "Jane Doe_12345_assignsubmission_file_ps1.ipynb").write_bytes(reference)
    (moodle / "John Smith_12346_assignsubmission_file" / "ps1.ipynb").write_bytes(blank)
    out["moodle"] = _grade(course, "--submissions", str(moodle)).stdout
    out["moodle_export"] = cli.export_main(["ps1", "--course", str(course.root), "--format",
                                            "moodle"])
    out["moodle_csv"] = (course.root / "moodle-ps1.csv").read_text()
    out["before_resubmission"] = course.results("ps1")["moodle-12345"]
    (moodle / "Jane Doe_12345_assignsubmission_file_ps1.ipynb").write_bytes(reference[:-300])
    out["resubmitted"] = _grade(course, "--submissions", str(moodle)).stdout
    return out


def test_fetch_is_dry_then_writes_the_download_with_canvas_times(trip: dict[str, Any]) -> None:
    assert trip["fetch_dry"] == (0, False) and trip["fetch"] == 0
    times = json.loads((trip["root"] / "download" / ".submission-times.json").read_text())
    assert times["times"]["canvas:333"] == "2024-03-02T13:00:00+00:00"
    stamp = trip["course"].root / "submitted" / "canvas-333" / "ps1" / "timestamp.txt"
    assert stamp.read_text() == "2024-03-02 13:00:00.000000 UTC"  # as nbgrader collect writes


def test_the_download_is_counted_and_learners_of_one_name_stay_apart(
        trip: dict[str, Any]) -> None:
    summary = trip["graded"]
    assert "5 files: 4 taken, 1 refused (1 refusals); 4 learners, 4 with files taken" in summary
    assert "cannot tell whose file README.txt is" in summary
    assert "submission times from the LMS for 4 learners" in summary
    assert "4 submissions: 4 graded now" in summary
    rows = trip["csv"]
    assert sorted(rows) == CANVAS
    assert (rows["canvas-111"]["score"], rows["canvas-222"]["score"]) == ("10", "0")


def test_the_late_learner_loses_what_nbgrader_export_subtracts(trip: dict[str, Any]) -> None:
    from nbgrader.api import Gradebook
    from nbgrader.plugins.export import CsvExportPlugin

    course = trip["course"]
    rows = trip["csv"]
    assert (rows["canvas-333"]["score"], rows["canvas-333"]["late_penalty"]) == ("8", "2")
    assert (rows["canvas-111"]["late_penalty"], rows["canvas-333"]["status"]) == ("0", "graded")
    assert "Late (1, nbgrader's late penalty subtracted):\n  canvas-333: -2" in trip["graded"]
    theirs = trip["root"] / "nbgrader-export.csv"
    with Gradebook(course.db_url, COURSE_ID) as gb:
        CsvExportPlugin(to=str(theirs)).export(gb)
    with theirs.open() as fh:
        nbgrader = {r["student_id"]: r["score"] for r in csv.DictReader(fh)
                    if r["student_id"] in ("canvas-111", "canvas-222", "canvas-333")}
    assert {s: float(v) for s, v in nbgrader.items()} == {
        s: float(rows[s]["score"]) for s in nbgrader}


def test_the_misnamed_learner_has_no_score_and_is_told_why(trip: dict[str, Any]) -> None:
    course = trip["course"]
    row = _csv(course)["canvas-444"]
    assert (row["score"], row["status"], row["test_fahrenheit"]) == ("", "not gradable", "")
    assert row["reason"] == "no notebook named ps1.ipynb (found: ps1 (1).ipynb)"
    assert "canvas-444" not in course.results("ps1")  # no submission, no score in the gradebook
    page = (course.root / "feedback" / "canvas-444" / "ps1" / "ps1.html").read_text()
    assert "could not be graded" in page and "To resubmit" in page and "ps1 (1).ipynb" in page
    assert "Not gradable (1, no score; their feedback says how to resubmit):" in trip["graded"]


def test_the_canvas_import_file(trip: dict[str, Any]) -> None:
    assert trip["export"] == 0
    assert (trip["course"].root / "canvas-ps1.csv").read_text() == (
        "Student,ID,SIS User ID,SIS Login ID,Section,ps1 (12345)\n"
        '"Smith, John",111,S111,jsmith,A,10\n'
        '"Smith, John",222,S222,jsmith2,B,0\n'
        '"Lee, Ann",333,S333,alee,A,8\n'
        '"Ngo, Mai",444,S444,mngo,B,\n')


def test_the_upload_sends_every_grade_and_comment_exactly_once(trip: dict[str, Any]) -> None:
    fake: FakeCanvas = trip["fake"]
    assert fake.refused == []  # nothing but the fake was ever contacted
    assert trip["dry"] == 0 and {r.method for r in trip["dry_requests"]} == {"GET"}
    assert trip["failed"] == 1  # stopped by the server error: what was sent is kept
    assert trip["after_failure"] == {111: (10.0, 1), 222: (0.0, 0), 333: (None, 0),
                                     444: (None, 0)}
    assert trip["applied"] == 0 and trip["again"] == 0
    assert {r.method for r in trip["again_requests"]} == {"GET"}  # the rerun sends nothing
    assert {uid: s.score for uid, s in fake.submissions.items()} == {
        111: 10.0, 222: 0.0, 333: 8.0, 444: None}  # 444's grade is left alone
    grades = Counter(r.path for r in fake.succeeded("PUT", r".*/submissions/\d+")
                     if r.param("submission[posted_grade]"))
    assert sorted(grades.values()) == [1, 1, 1]  # once each, the error notwithstanding
    uploads = [r for r in fake.log if r.path.startswith("/files_api/") and r.status < 400]
    assert len(uploads) == 4
    course = trip["course"].root
    for uid, sub in fake.submissions.items():
        (comment,) = sub.comments
        (attached,) = comment["attachments"]
        html = (course / "feedback" / f"canvas-{uid}" / "ps1" / "ps1.html").read_bytes()
        assert fake.files[attached["id"]].data == html
    assert "after a late penalty of 2" in fake.submissions[333].comments[0]["comment"]
    assert fake.submissions[444].comments[0]["comment"].startswith(
        "ps1 could not be graded: no notebook named ps1.ipynb (found: ps1 (1).ipynb).")


def test_a_moodle_download_and_an_earlier_grade_that_stays(trip: dict[str, Any]) -> None:
    course = trip["course"]
    assert "2 files: 2 taken, 0 refused (0 refusals); 2 learners" in trip["moodle"]
    assert "6 submissions: 2 graded now, 4 unchanged" in trip["moodle"]
    assert trip["moodle_export"] == 1  # the Canvas learners have no Moodle id: listed
    lines = trip["moodle_csv"].splitlines()
    assert lines[0] == "Identifier,Full name,Grade,Maximum Grade,Last modified (grade)"
    assert [line.rsplit(",", 1)[0] for line in lines[1:]] == [
        "Participant 12345,moodle-12345,10,10", "Participant 12346,moodle-12346,0,10"]
    # Jane resubmits a notebook cut in half: no score now, her earlier grade stays
    assert "6 submissions: 1 graded now, 5 unchanged" in trip["resubmitted"]
    row = _csv(course)["moodle-12345"]
    assert (row["score"], row["status"]) == ("", "not gradable")
    assert "ps1.ipynb is not valid JSON" in row["reason"]
    assert course.results("ps1")["moodle-12345"] == trip["before_resubmission"]
    graded = course.autograded_notebook("moodle-12345", "ps1")
    assert "resubmit-note" in graded.cells[0].metadata.tags
    assert "Your earlier submission, graded below, still counts" in graded.cells[0].source
    page = (course.root / "feedback" / "moodle-12345" / "ps1" / "ps1.html").read_text()
    assert "still counts" in page and "test_fahrenheit" in page
