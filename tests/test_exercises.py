"""A learner's working copy: `make exercises` fills a git-ignored folder and never overwrites it,
and nbgrader's Validate (the toolbar button runs this same ``Validator``) works there."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import nbformat
import pytest

from tests.support.paths import RELEASE, REPO, SOURCE, tool_env


def make_exercises(folder: Path) -> list[str]:
    done = subprocess.run(["make", "--no-print-directory", "-s", "exercises",
                           f"EXERCISES={folder}"], cwd=REPO, env=tool_env(),
                          capture_output=True, text=True, check=True, timeout=120)
    return done.stdout.splitlines()


def released() -> list[str]:
    return sorted(p.relative_to(RELEASE).as_posix() for p in RELEASE.rglob("*") if p.is_file()
                  and ".ipynb_checkpoints" not in p.parts)


def test_exercises_copies_release_and_never_overwrites_an_answer(tmp_path: Path) -> None:
    folder = tmp_path / "exercises"
    said = make_exercises(folder)
    copied = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())
    assert copied == released() and len(said) == len(copied)
    assert all(line.startswith("copied") for line in said)
    answer = folder / "ps1" / "ps1.ipynb"
    answer.write_text(answer.read_text(encoding="utf-8").replace(
        "raise NotImplementedError()", "return 'my answer'"), encoding="utf-8")
    mine = answer.read_bytes()
    (folder / "ps2" / "ps2.ipynb").unlink()  # deleted by the learner: copied afresh
    said = make_exercises(folder)
    assert answer.read_bytes() == mine, "the learner's answer was overwritten"
    assert f"kept    {answer} (yours)" in said
    assert f"copied  {folder / 'ps2' / 'ps2.ipynb'}" in said
    fresh = (folder / "ps2" / "ps2.ipynb").read_bytes()
    assert fresh == (RELEASE / "ps2" / "ps2.ipynb").read_bytes()


def test_the_default_working_folder_is_ignored_by_git() -> None:
    done = subprocess.run(["git", "check-ignore", "--no-index", "exercises/ps1/ps1.ipynb"],
                          cwd=REPO, capture_output=True, text=True, check=False)
    assert done.returncode == 0, "exercises/ must be in .gitignore"


def _answered(exercise: Path, assignment: str) -> None:
    """Put the reference solutions (markers dropped) into the learner's copy, as a learner would."""
    reference = nbformat.read(SOURCE / assignment / f"{assignment}.ipynb", as_version=4)
    solutions = {c.metadata["nbgrader"]["grade_id"]: c.source for c in reference.cells
                 if c.metadata.get("nbgrader", {}).get("solution")}
    nb = nbformat.read(exercise, as_version=4)
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if cell.metadata.get("nbgrader", {}).get("solution") and grade_id in solutions:
            cell.source = "\n".join(line for line in solutions[grade_id].splitlines()
                                    if "### BEGIN SOLUTION" not in line
                                    and "### END SOLUTION" not in line)
    nbformat.write(nb, exercise)


@pytest.mark.slow
def test_validate_works_in_the_working_copy(tmp_path: Path) -> None:
    from nbgrader.validator import Validator

    folder = tmp_path / "exercises"
    make_exercises(folder)
    exercise = folder / "ps1" / "ps1.ipynb"
    blank = Validator().validate(str(exercise))
    assert len(blank.get("failed", [])) >= 5, f"the blank copy should fail its tests: {blank}"
    answered = tmp_path / "answered" / "ps1.ipynb"
    answered.parent.mkdir()
    shutil.copy(exercise, answered)
    _answered(answered, "ps1")
    result = Validator().validate(str(answered))
    assert result == {}, f"Validate should find no failed or changed cells: {result}"
