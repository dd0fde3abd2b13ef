"""collect: every learner's submission found, checked and normalised; unsafe uploads refused."""

from __future__ import annotations

import json
import os
import zipfile
from datetime import UTC, datetime
from pathlib import Path

from autograder.grading.collect import Submission, collect
from autograder.lms.naming import LearnerKey, Roster
from autograder.lms.times import write_times

GOOD = json.dumps({"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5})


def _zip(path: Path, members: dict[str, bytes], links: tuple[str, ...] = ()) -> None:
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
        for name in links:
            info = zipfile.ZipInfo(name)
            info.external_attr = 0o120777 << 16  # a symbolic link
            zf.writestr(info, "/etc/passwd")


def _collect(course: Path, downloads: Path | None = None, notebooks: tuple[str, ...] = ("ps1",),
             roster: Roster | None = None) -> dict[str, Submission]:
    return {s.student: s for s in collect(course, "ps1", notebooks, downloads, roster).submissions}


def test_collect_imports_lms_downloads_and_refuses_unsafe_ones(tmp_path: Path) -> None:
    course = tmp_path / "course"
    (course / "submitted").mkdir(parents=True)
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    good = GOOD
    (downloads / "ana.ipynb").write_text(good)
    # Canvas's naming: user 1234's file 5678, not a student "ben"
    _zip(downloads / "ben_1234_5678_ps1.zip", {"ps1/ps1.ipynb": good.encode(),
                                               "ps1/data.csv": b"1,2\n"})
    _zip(downloads / "cai.zip", {"../../escape.ipynb": b"{}", "ps1.ipynb": good.encode()})
    _zip(downloads / "dee.zip", {"ps1.ipynb": good.encode()}, links=("secret.txt",))
    _zip(downloads / "eve.zip", {"homework.ipynb": good.encode()})
    (downloads / "fin.txt").write_text("my answer is 42")
    collected = collect(course, "ps1", ("ps1",), downloads)
    subs = {s.student: s for s in collected.submissions}
    assert subs["ana"].problem is None and subs["canvas-1234"].problem is None
    assert "ben" not in subs
    assert (course / "submitted" / "canvas-1234" / "ps1" / "data.csv").read_bytes() == b"1,2\n"
    assert "unsafe member '../../escape.ipynb'" in (subs["cai"].problem or "")
    assert "symbolic link 'secret.txt'" in (subs["dee"].problem or "")
    assert subs["eve"].problem == "no notebook named ps1.ipynb (found: homework.ipynb)"
    assert "fin" not in subs  # a file that names no learner: refused in the download's summary
    assert collected.imported is not None
    summary = collected.imported.summary()
    assert summary.startswith("6 files: 5 taken, 1 refused (1 refusals); 5 learners")
    assert "cannot tell whose file fin.txt is" in summary
    assert not (tmp_path / "escape.ipynb").exists() and not (course / "escape.ipynb").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["course", "downloads"]


def _nb(marker: str) -> str:
    return json.dumps({"cells": [], "metadata": {"marker": marker}, "nbformat": 4,
                       "nbformat_minor": 5})


def test_a_canvas_and_a_moodle_download_tell_learners_apart_by_their_ids(tmp_path: Path) -> None:
    course, download = tmp_path / "course", tmp_path / "download"
    download.mkdir()
    (download / "smithjohn_111_9001_ps1.ipynb").write_text(_nb("111"))
    (download / "smithjohn_222_9002_ps1-1.ipynb").write_text(_nb("222"))  # the same name
    (download / "leeann_LATE_333_9003_ps1.ipynb").write_text(_nb("333"))
    (download / "ngomai_444_9004_ps1 (1).ipynb").write_text(_nb("444"))  # misnamed
    (download / "obrien_555_9005_ps1.ipynb").write_text(_nb("555a"))
    (download / "obrien_555_9006_PS1.ipynb").write_text(_nb("555b"))  # a collision
    (download / "Jane Doe_12345_assignsubmission_file_ps1.ipynb").write_text(_nb("j"))
    (download / "John Smith_12346_assignsubmission_file").mkdir()
    (download / "John Smith_12346_assignsubmission_file" / "ps1.ipynb").write_text(_nb("m"))
    collected = collect(course, "ps1", ("ps1",), download)
    subs = {s.student: s for s in collected.submissions}
    for student, marker in (("canvas-111", "111"), ("canvas-222", "222"), ("canvas-333", "333"),
                            ("moodle-12345", "j"), ("moodle-12346", "m")):
        assert subs[student].problem is None, student
        notebook = course / "submitted" / student / "ps1" / "ps1.ipynb"
        assert json.loads(notebook.read_text())["metadata"]["marker"] == marker
    assert subs["canvas-444"].problem == "no notebook named ps1.ipynb (found: ps1 (1).ipynb)"
    assert "none of them was taken" in (subs["canvas-555"].problem or "")
    assert not (course / "submitted" / "canvas-555").exists()
    assert collected.imported is not None
    text = collected.imported.summary()
    assert text.startswith("8 files: 6 taken, 2 refused (1 refusals); 7 learners, 6 with files "
                           "taken")
    # Canvas marked 333 late, and the download has no times: said, not guessed
    assert collected.imported.untimed_late == ["canvas-333"]
    assert "no late penalty applies to them" in text
    assert not (course / "submitted" / "canvas-333" / "ps1" / "timestamp.txt").exists()


def test_a_roster_gives_nbgrader_ids_and_fetched_times_become_timestamps(tmp_path: Path) -> None:
    course, download = tmp_path / "course", tmp_path / "download"
    download.mkdir()
    (download / "smithjohn_111_9001_ps1.ipynb").write_text(_nb("111"))
    (download / "leeann_LATE_333_9003_ps1.ipynb").write_text(_nb("333"))
    write_times(download, {LearnerKey("canvas", "111"): datetime(2024, 3, 1, 9, tzinfo=UTC),
                           LearnerKey("canvas", "333"): datetime(2024, 3, 3, 8, 30, tzinfo=UTC)})
    roster = Roster.from_csv("Student,ID,SIS User ID,SIS Login ID,Section,nbgrader id\n"
                             '"Smith, John",111,S1,jsmith,A,jsmith\n')
    subs = _collect(course, download, roster=roster)
    assert sorted(subs) == ["canvas-333", "jsmith"]
    stamp = course / "submitted" / "canvas-333" / "ps1" / "timestamp.txt"
    assert stamp.read_text() == "2024-03-03 08:30:00.000000 UTC"  # as nbgrader collect writes
    assert subs["canvas-333"].timestamp == stamp.read_text()
    before = subs["canvas-333"].sha256
    write_times(download, {LearnerKey("canvas", "333"): datetime(2024, 3, 3, 9, tzinfo=UTC)})
    assert _collect(course, download, roster=roster)["canvas-333"].sha256 != before  # regraded


def test_a_learners_own_timestamp_never_decides_whether_they_were_late(tmp_path: Path) -> None:
    course, download = tmp_path / "course", tmp_path / "download"
    download.mkdir()
    _zip(download / "leeann_LATE_333_9003_ps1.zip", {
        "ps1/ps1.ipynb": GOOD.encode(), "ps1/timestamp.txt": b"2000-01-01 00:00:00 UTC"})
    (download / "smithjohn_111_9001_timestamp.txt").write_text("2000-01-01 00:00:00 UTC")
    (download / "smithjohn_111_9002_ps1.ipynb").write_text(GOOD)
    subs = _collect(course, download)
    assert subs["canvas-333"].problem is None and subs["canvas-333"].timestamp == ""
    assert subs["canvas-111"].timestamp == ""
    assert "timestamp.txt you uploaded was left out" in " ".join(subs["canvas-111"].notes)


def test_a_refused_new_upload_keeps_the_earlier_good_submission(tmp_path: Path) -> None:
    course, download = tmp_path / "course", tmp_path / "download"
    download.mkdir()
    (download / "smithjohn_111_9001_ps1.ipynb").write_text(_nb("first"))
    assert _collect(course, download)["canvas-111"].problem is None
    (download / "smithjohn_111_9001_ps1.ipynb").unlink()
    (download / "smithjohn_111_9002_ps1.ipynb").write_text(_nb("a"))
    (download / "smithjohn_111_9003_ps1.ipynb").write_text(_nb("b"))  # both are ps1.ipynb
    again = _collect(course, download)["canvas-111"]
    assert again.problem is None
    kept = course / "submitted" / "canvas-111" / "ps1" / "ps1.ipynb"
    assert json.loads(kept.read_text())["metadata"]["marker"] == "first"


def test_an_assignment_of_several_notebooks(tmp_path: Path) -> None:
    both = ("part1", "part2")
    _submitted(tmp_path, "ana", GOOD, "part1.ipynb")
    _submitted(tmp_path, "ana", GOOD, "part2.ipynb")
    _submitted(tmp_path, "ben", GOOD, "part1.ipynb")  # part2 not handed in: scored 0
    _submitted(tmp_path, "cal", GOOD, "part1.ipynb")
    _submitted(tmp_path, "cal", GOOD, "part2 (1).ipynb")  # handed in under another name
    _submitted(tmp_path, "dee", GOOD, "part1.ipynb")
    _submitted(tmp_path, "dee", GOOD[:-5], "part2.ipynb")
    subs = _collect(tmp_path, notebooks=both)
    assert (subs["ana"].notebooks, subs["ana"].absent) == (both, ())
    assert (subs["ben"].notebooks, subs["ben"].absent, subs["ben"].problem) == (
        ("part1",), ("part2",), None)
    assert subs["cal"].problem == "no notebook named part2.ipynb (found: part2 (1).ipynb)"
    assert "part2.ipynb is not valid JSON" in (subs["dee"].problem or "")
    assert subs["ana"].sha256 != subs["ben"].sha256


def test_collect_refuses_a_symlinked_notebook(tmp_path: Path) -> None:
    folder = tmp_path / "submitted" / "ana" / "ps1"
    folder.mkdir(parents=True)
    os.symlink(tmp_path / "gradebook.db", folder / "ps1.ipynb")
    (sub,) = collect(tmp_path, "ps1", ("ps1",)).submissions
    assert sub.problem == "the submission holds a symbolic link (ps1.ipynb); only files are graded"
    assert repr(sub).startswith("Submission(ana/ps1, problem=")


def _submitted(course: Path, student: str, content: str | bytes, name: str = "ps1.ipynb") -> Path:
    folder = course / "submitted" / student / "ps1"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    return path


def test_each_broken_notebook_gets_a_reason_the_learner_can_act_on(tmp_path: Path) -> None:
    _submitted(tmp_path, "ana", GOOD)
    _submitted(tmp_path, "ben", GOOD[:-20])
    _submitted(tmp_path, "cal", json.dumps({"nbformat": 3, "worksheets": []}))
    _submitted(tmp_path, "dee", json.dumps({"metadata": {}}))
    _submitted(tmp_path, "eve", GOOD, name="ps1 (1).ipynb")
    subs = _collect(tmp_path)
    assert subs["ana"].problem is None and len(subs["ana"].sha256) == 64
    assert "is not valid JSON (line 1" in (subs["ben"].problem or "")
    assert "old notebook format (nbformat 3)" in (subs["cal"].problem or "")
    assert "not a Jupyter notebook (it has no cells)" in (subs["dee"].problem or "")
    assert subs["eve"].problem == "no notebook named ps1.ipynb (found: ps1 (1).ipynb)"
    assert list(subs) == sorted(subs)


def test_a_student_folder_name_nbgrader_cannot_use_is_refused(tmp_path: Path) -> None:
    _submitted(tmp_path, "ana smith", GOOD)
    (sub,) = collect(tmp_path, "ps1", ("ps1",)).submissions
    assert sub.problem == "the student id 'ana smith' has characters a course folder cannot use"


def test_links_devices_and_unreadable_names_are_refused_before_anything_is_copied(
        tmp_path: Path) -> None:
    (tmp_path / "source").mkdir()
    (tmp_path / "source" / "ps1.ipynb").write_text("every solution and hidden test")
    (tmp_path / "gradebook.db").write_text("every grade")
    ana = _submitted(tmp_path, "ana", GOOD).parent
    os.symlink("../../../source/ps1.ipynb", ana / "notes.txt")
    ben = _submitted(tmp_path, "ben", GOOD).parent
    (ben / "data").mkdir()
    os.symlink(tmp_path / "gradebook.db", ben / "data" / "table.csv")
    cal = _submitted(tmp_path, "cal", GOOD).parent
    os.mkfifo(cal / "pipe")
    dee = _submitted(tmp_path, "dee", GOOD).parent
    (dee / os.fsdecode(b"bad\xffname.txt")).write_text("x")
    _submitted(tmp_path, "eve", GOOD)
    subs = _collect(tmp_path)
    assert subs["ana"].problem == ("the submission holds a symbolic link (notes.txt); only files "
                                   "are graded")
    assert "symbolic link (data/table.csv)" in (subs["ben"].problem or "")
    assert "not a file (pipe: a device, pipe or socket)" in (subs["cal"].problem or "")
    assert "name is not valid text (bad\\udcffname.txt)" in (subs["dee"].problem or "")
    assert subs["eve"].problem is None and subs["eve"].notebooks == ("ps1",)


def _flag_encrypted(path: Path) -> None:
    """Mark every member of a zip as encrypted (bit 0 of the general-purpose flags)."""
    data = bytearray(path.read_bytes())
    for signature, offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        start = 0
        while (at := data.find(signature, start)) != -1:
            data[at + offset] |= 1
            start = at + 4
    path.write_bytes(bytes(data))


def _invalid_member_name(path: Path) -> None:
    """Replace a member's name with bytes that are not UTF-8, flagged as UTF-8."""
    data = bytearray(path.read_bytes())
    for signature, flag_at in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        at = data.find(signature)
        data[at + flag_at + 1] |= 0x08  # bit 11: the name is UTF-8
    path.write_bytes(bytes(data).replace(b"ps1/ps1.ipynb", b"ps1/ps\xff.ipynb"))


def test_broken_zips_are_refused_and_the_other_learners_of_the_download_imported(
        tmp_path: Path) -> None:
    course = tmp_path / "course"
    (course / "submitted").mkdir(parents=True)
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    _zip(downloads / "ana.zip", {"ps1/ps1.ipynb": GOOD.encode()})
    _flag_encrypted(downloads / "ana.zip")
    _zip(downloads / "ben.zip", {"ps1/ps1.ipynb": GOOD.encode()})
    _invalid_member_name(downloads / "ben.zip")
    (downloads / "cal.zip").write_bytes(b"PK\x03\x04 not really a zip")
    (downloads / "dee.ipynb").write_text(GOOD)
    _zip(downloads / "eve.zip", {"ps1.ipynb": GOOD.encode()})
    subs = _collect(course, downloads)
    assert subs["ana"].problem == "the zip file is protected by a password: submit it without one"
    assert "not valid text" in (subs["ben"].problem or "")
    assert "damaged" in (subs["cal"].problem or "")
    assert subs["dee"].problem is None and subs["eve"].problem is None
