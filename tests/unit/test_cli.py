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
