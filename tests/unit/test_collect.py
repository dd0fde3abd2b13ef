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
    assert sub.problem == "ps1.ipynb is a symbolic link, not a notebook file"
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
