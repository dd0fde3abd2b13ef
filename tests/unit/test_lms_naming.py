"""LMS download naming: every file is one learner's, learners are told apart by the LMS's user id,
collisions are refused with both files named, and the counts add up."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from autograder.lms.naming import (
    LearnerKey,
    Listing,
    NameRefused,
    Roster,
    RosterError,
    derived_student_id,
    learner_of,
    list_download,
    parse_name,
    plan_download,
    printable,
)

CANVAS = [  # as Canvas's "Download Submissions" names them (lib/content_zipper.rb)
    "smithjohn_111_9001_ps1.ipynb",
    "smithjohn_222_9002_ps1.ipynb",  # a second John Smith: another user id
    "leeann_LATE_333_9003_ps1.ipynb",
    "ngomai_444_9004_ps1-1.ipynb",  # uploaded twice: Canvas renamed it
    "obrienpat_555_9005_ps1.zip",
    "ps1 (1).ipynb",  # not from Canvas at all
]
MOODLE = [  # mod/assign/classes/downloader.php, flat and "in folders"
    "Jane Doe_12345_assignsubmission_file_ps1.ipynb",
    "John Smith_12346_assignsubmission_file/ps1.ipynb",
    "John Smith_12347_assignsubmission_file/ps1.ipynb",
    "Ann Lee_12348_assignsubmission_onlinetext_onlinetext.html",
]


def test_canvas_names_give_every_field() -> None:
    late = parse_name("leeann_LATE_333_9003_ps1.ipynb")
    assert (late.lms, late.user_id, late.name, late.late, late.submission_id, late.original) == (
        "canvas", "333", "leeann", True, "9003", "ps1.ipynb")
    odd = parse_name("o_brien_12_34_my_9_8_notes.ipynb")  # underscores in name and file name
    assert (odd.name, odd.user_id, odd.submission_id, odd.original) == (
        "o_brien", "12", "34", "my_9_8_notes.ipynb")
    assert parse_name("smithjohn_111_9001_ps1.zip").original == "ps1.zip"


def test_moodle_names_flat_and_in_folders() -> None:
    flat = parse_name(MOODLE[0])
    assert (flat.lms, flat.user_id, flat.name, flat.original) == (
        "moodle", "12345", "Jane Doe", "ps1.ipynb")
    folder = parse_name("John Smith_12346_assignsubmission_file/sub/ps1.ipynb")
    assert (folder.user_id, folder.name, folder.original) == ("12346", "John Smith",
                                                              "sub/ps1.ipynb")
    with pytest.raises(NameRefused, match="online") as err:
        parse_name(MOODLE[3])
    assert err.value.key == LearnerKey("moodle", "12348")


def test_plain_names_and_what_names_no_learner() -> None:
    assert parse_name("ana.ipynb").key == LearnerKey("plain", "ana")
    for bad in ("ps1 (1).ipynb", "ben_notes.zip", "../ana.ipynb", "anon_x1Y2z_9001_ps1.ipynb"):
        with pytest.raises(NameRefused) as err:
            parse_name(bad)
        assert err.value.key is None, bad
    with pytest.raises(NameRefused, match="text entry") as err:
        parse_name("kimlee_444_text.html")
    assert err.value.key == LearnerKey("canvas", "444")


def test_a_canvas_download_keeps_two_learners_of_one_name_apart() -> None:
    plan = plan_download(CANVAS, ["ps1"])
    by_id = {learner.student_id: learner for learner in plan.learners}
    assert sorted(by_id) == ["canvas-111", "canvas-222", "canvas-333", "canvas-444",
                             "canvas-555"]
    assert by_id["canvas-111"].name == by_id["canvas-222"].name == "smithjohn"
    assert [f.name.path for f in by_id["canvas-111"].files] == [CANVAS[0]]
    assert [f.name.path for f in by_id["canvas-222"].files] == [CANVAS[1]]
    assert by_id["canvas-333"].late and not by_id["canvas-111"].late
    (renamed,) = by_id["canvas-444"].files
    assert (renamed.target, renamed.kind) == ("ps1.ipynb", "notebook")  # "-1" undone
    (archive,) = by_id["canvas-555"].files
    assert (archive.target, archive.kind) == ("ps1.zip", "archive")
    (stray,) = plan.unclaimed
    assert stray.files == ("ps1 (1).ipynb",) and "cannot tell whose file" in stray.reason
    assert (plan.listed, plan.accepted, plan.refused) == (6, 5, 1)
    assert plan.summary().splitlines()[0] == (
        "6 files: 5 taken, 1 refused (1 refusals); 5 learners, 5 with files taken")


def test_a_moodle_download_in_both_forms() -> None:
    plan = plan_download(MOODLE, ["ps1.ipynb"])
    assert [(lf.student_id, lf.name, [f.target for f in lf.files]) for lf in plan.learners] == [
        ("moodle-12345", "Jane Doe", ["ps1.ipynb"]),
        ("moodle-12346", "John Smith", ["ps1.ipynb"]),
        ("moodle-12347", "John Smith", ["ps1.ipynb"]),
        ("moodle-12348", "Ann Lee", []),
    ]
    assert "online" in plan.learners[3].reason
    assert (plan.listed, plan.accepted, plan.refused, len(plan.refusals)) == (4, 3, 1, 1)


def test_two_files_for_one_notebook_are_refused_together_naming_both() -> None:
    files = ["leeann_333_9003_ps1.ipynb", "leeann_333_9004_ps1-1.ipynb",
             "leeann_333_9005_data.csv", "kim_444_9006_ps1.zip", "kim_444_9007_ps1.ipynb"]
    plan = plan_download(files, ["ps1"])
    lee = plan.learner(LearnerKey("canvas", "333"))
    kim = plan.learner(LearnerKey("canvas", "444"))
    assert lee is not None and kim is not None
    assert [f.target for f in lee.files] == ["data.csv"]  # the rest of lee's work stays
    (clash,) = lee.refusals
    assert clash.files == (files[0], files[1])
    assert files[0] in clash.reason and files[1] in clash.reason
    assert "none of them was taken" in clash.reason
    assert kim.files == () and "zip" in kim.reason  # a zip beside a notebook: ambiguous
    assert plan.accepted + plan.refused == plan.listed == 5


def test_two_learners_that_would_share_an_nbgrader_id_are_both_refused() -> None:
    plan = plan_download(["canvas-111.ipynb", "smithjohn_111_9001_ps1.ipynb", "ana.ipynb"],
                         ["ps1"])
    shared = [lf for lf in plan.learners if lf.student_id == "canvas-111"]
    assert len(shared) == 2 and all(not lf.files and "share" in lf.reason for lf in shared)
    assert [lf.student_id for lf in plan.learners if lf.files] == ["ana"]
    assert plan.accepted + plan.refused == plan.listed == 3


def test_a_plain_notebook_cannot_say_which_notebook_of_several_it_is() -> None:
    plan = plan_download(["ana.ipynb", "ben.zip"], ["problem1", "problem2"])
    ana = plan.learner(LearnerKey("plain", "ana"))
    assert ana is not None and ana.files == () and "ana.zip" in ana.reason
    assert [f.kind for f in plan.learners[1].files] == ["archive"]


def test_unsafe_and_hostile_names_never_become_paths_or_terminal_escapes() -> None:
    files = ["evil_1_2_.hidden.ipynb", "evil_3_4_a\x1b[31mred.ipynb",
             "Eve Hacker_5_assignsubmission_file/../../etc/passwd", "ok_6_7_\u202eblppi.ipynb"]
    plan = plan_download(files, ["ps1"])
    assert plan.accepted == 0 and plan.refused == 4
    text = plan.summary()
    assert "\x1b" not in text and "\u202e" not in text and "\\x1b" in text
    assert printable("a\x07b") == "a\\x07b"


def test_a_roster_from_canvas_gives_names_and_nbgrader_ids() -> None:
    roster = Roster.from_csv(
        "\ufeffStudent,ID,SIS User ID,SIS Login ID,Section,ps1 (12345),nbgrader id\n"
        "    Points Possible,,,,,3,\n"
        '"Smith, John",111,S1,jsmith,Sec A,,jsmith\n'
        '"Smith, John",222,S2,jsmith2,Sec B,,\n')
    plan = plan_download(CANVAS[:2], ["ps1"], roster)
    assert [(lf.student_id, lf.name) for lf in plan.learners] == [
        ("jsmith", "Smith, John"), ("canvas-222", "Smith, John")]
    john = roster.by_student("jsmith")
    assert john is not None and (john.sis_user_id, john.section) == ("S1", "Sec A")
    assert repr(roster) == "Roster(2 learners, canvas)"


def test_a_roster_from_moodles_worksheet_and_rosters_that_are_refused() -> None:
    roster = Roster.from_csv("Identifier,Full name,Email address,Grade\n"
                             "Participant 12345,Jane Doe,jd@example.org,\n")
    learner = roster.get(LearnerKey("moodle", "12345"))
    assert learner is not None and (learner.name, learner.student_id) == (
        "Jane Doe", "moodle-12345")
    with pytest.raises(RosterError, match="columns are: name, mark"):
        Roster.from_csv("name,mark\n")
    with pytest.raises(RosterError, match=r"line 2.*not allowed"):
        Roster.from_csv("Student,ID,nbgrader id\nEve,7,../../etc\n")
    with pytest.raises(RosterError, match="share the nbgrader id"):
        Roster.from_csv("Student,ID,nbgrader id\nA,1,same\nB,2,same\n")


def test_derived_ids_are_safe_and_reversible() -> None:
    key = LearnerKey("canvas", "111")
    assert derived_student_id(key) == "canvas-111" and learner_of("canvas-111") == key
    assert learner_of("moodle-7") == LearnerKey("moodle", "7")
    assert learner_of("jsmith") is None and learner_of("canvas-x") is None


def test_listing_a_download_folder_without_following_links(tmp_path: Path) -> None:
    (tmp_path / "smithjohn_111_9001_ps1.ipynb").write_text("{}")
    folder = tmp_path / "John Smith_12346_assignsubmission_file"
    folder.mkdir()
    (folder / "ps1.ipynb").write_text("{}")
    (tmp_path / ".DS_Store").write_text("")
    os.symlink("/etc/passwd", tmp_path / "ana.ipynb")
    listing = list_download(tmp_path)
    assert listing == Listing(("John Smith_12346_assignsubmission_file/ps1.ipynb",
                               "smithjohn_111_9001_ps1.ipynb"), ("ana.ipynb",), (".DS_Store",))
    plan = plan_download(listing, ["ps1"])
    assert (plan.listed, plan.accepted, plan.refused) == (3, 2, 1)
    assert "symbolic link" in plan.unclaimed[0].reason
