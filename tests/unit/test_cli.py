"""The class command's exit codes and one-line errors, for what stops a run before it starts."""

from __future__ import annotations

from pathlib import Path

import pytest

from autograder.__main__ import main as autograder_main
from autograder.grading.cli import main


def test_a_folder_without_a_course_is_refused_in_one_line(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ps1", "--course", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err == (f"error: no nbgrader_config.py in {tmp_path.resolve()}: run from the course "
                   "root or pass --course\n")


def test_bad_worker_counts_are_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ps1", "--workers", "0"]) == 2
    assert capsys.readouterr().err == "error: --workers must be at least 1\n"


def test_an_unknown_command_prints_the_commands(capsys: pytest.CaptureFixture[str]) -> None:
    assert autograder_main(["regrade"]) == 2
    assert "grade <assignment>" in capsys.readouterr().err


def test_a_roster_without_a_download_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ps1", "--roster", "roster.csv"]) == 2
    assert "give the download with --submissions" in capsys.readouterr().err


def test_student_regrades_just_those_learners_as_if_forced() -> None:
    from autograder.grading.collect import Submission
    from autograder.grading.errors import CourseError
    from autograder.grading.pipeline import select

    subs = [Submission(s, "ps1", Path(s)) for s in ("ana", "ben", "cal")]
    changed = {"ben"}

    def unchanged(sub: Submission) -> bool:
        return sub.student not in changed

    def names(todo: list[Submission]) -> list[str]:
        return [sub.student for sub in todo]

    assert names(select(subs, unchanged)[0]) == ["ben"]
    assert names(select(subs, unchanged, force=True)[0]) == ["ana", "ben", "cal"]
    todo, skipped = select(subs, unchanged, students=["cal", "ana"])
    assert (names(todo), skipped) == (["ana", "cal"], ["ben"])  # unchanged, yet regraded
    with pytest.raises(CourseError, match="no submission of ps1 for --student dee"):
        select(subs, unchanged, students=["ana", "dee"])
