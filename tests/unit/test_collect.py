"""collect: every learner's submission found, checked and normalised; unsafe uploads refused."""

from __future__ import annotations

import json
import os
import zipfile
from pathlib import Path

from autograder.grading.collect import collect

GOOD = json.dumps({"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5})


def _zip(path: Path, members: dict[str, bytes], links: tuple[str, ...] = ()) -> None:
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
        for name in links:
            info = zipfile.ZipInfo(name)
            info.external_attr = 0o120777 << 16  # a symbolic link
            zf.writestr(info, "/etc/passwd")


def test_collect_imports_lms_downloads_and_refuses_unsafe_ones(tmp_path: Path) -> None:
    course = tmp_path / "course"
    (course / "submitted").mkdir(parents=True)
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    good = GOOD
    (downloads / "ana.ipynb").write_text(good)
    _zip(downloads / "ben_1234_5678_ps1.zip", {"ps1/ps1.ipynb": good.encode(),
                                               "ps1/data.csv": b"1,2\n"})
    _zip(downloads / "cai.zip", {"../../escape.ipynb": b"{}", "ps1.ipynb": good.encode()})
    _zip(downloads / "dee.zip", {"ps1.ipynb": good.encode()}, links=("secret.txt",))
    _zip(downloads / "eve.zip", {"homework.ipynb": good.encode()})
    (downloads / "fin.txt").write_text("my answer is 42")
    subs = {s.student: s for s in collect(course, "ps1", "ps1", downloads)}
    assert subs["ana"].problem is None and subs["ben"].problem is None
    assert (course / "submitted" / "ben" / "ps1" / "data.csv").read_bytes() == b"1,2\n"
    assert "unsafe member '../../escape.ipynb'" in (subs["cai"].problem or "")
    assert "symbolic link 'secret.txt'" in (subs["dee"].problem or "")
    assert subs["eve"].problem == "no notebook named ps1.ipynb (found: homework.ipynb)"
    assert "neither a notebook" in (subs["fin"].problem or "")
    assert not (tmp_path / "escape.ipynb").exists() and not (course / "escape.ipynb").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["course", "downloads"]


def test_collect_refuses_a_symlinked_notebook(tmp_path: Path) -> None:
    folder = tmp_path / "submitted" / "ana" / "ps1"
    folder.mkdir(parents=True)
    os.symlink(tmp_path / "gradebook.db", folder / "ps1.ipynb")
    (sub,) = collect(tmp_path, "ps1", "ps1")
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
    subs = {s.student: s for s in collect(tmp_path, "ps1", "ps1")}
    assert subs["ana"].problem is None and len(subs["ana"].sha256) == 64
    assert "is not valid JSON (line 1" in (subs["ben"].problem or "")
    assert "old notebook format (nbformat 3)" in (subs["cal"].problem or "")
    assert "not a Jupyter notebook (it has no cells)" in (subs["dee"].problem or "")
    assert subs["eve"].problem == "no notebook named ps1.ipynb (found: ps1 (1).ipynb)"
    assert list(subs) == sorted(subs)


def test_a_student_folder_name_nbgrader_cannot_use_is_refused(tmp_path: Path) -> None:
    _submitted(tmp_path, "ana smith", GOOD)
    (sub,) = collect(tmp_path, "ps1", "ps1")
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
    subs = {s.student: s for s in collect(tmp_path, "ps1", "ps1")}
    assert subs["ana"].problem == ("the submission holds a symbolic link (notes.txt); only files "
                                   "are graded")
    assert "symbolic link (data/table.csv)" in (subs["ben"].problem or "")
    assert "not a file (pipe: a device, pipe or socket)" in (subs["cal"].problem or "")
    assert "name is not valid text (bad\\udcffname.txt)" in (subs["dee"].problem or "")
    assert subs["eve"].problem is None and subs["eve"].notebook is not None


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
    subs = {s.student: s for s in collect(course, "ps1", "ps1", downloads)}
    assert subs["ana"].problem == "the zip file is protected by a password: submit it without one"
    assert "not valid text" in (subs["ben"].problem or "")
    assert "damaged" in (subs["cal"].problem or "")
    assert subs["dee"].problem is None and subs["eve"].problem is None
