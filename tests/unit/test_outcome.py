"""The outcome table: one rule per outcome, the same in the code and in the README."""

from __future__ import annotations

import pytest

from autograder.execution import RunOutcome
from autograder.grading.outcome import OUTCOMES, markdown_table, outcome_of_run, rule
from tests.support.paths import REPO


def test_the_readme_shows_the_table_the_code_applies() -> None:
    readme = (REPO / "README.md").read_text()
    assert markdown_table() in readme, (
        "README.md's outcome table differs from autograder/grading/outcome.py: paste the output "
        "of `python -c 'from autograder.grading.outcome import markdown_table as t; print(t())'`")


@pytest.mark.parametrize(("run", "graded"), [
    ("completed", "graded"), ("timeout", "timeout"), ("kernel-died", "kernel-died"),
    ("memory", "memory"), ("output-limit", "output-limit"), ("failed", "machinery-failure"),
])
def test_every_way_a_run_ends_has_a_grading_outcome(run: RunOutcome, graded: str) -> None:
    assert outcome_of_run(run) == graded


def test_a_run_outcome_nobody_knows_is_refused() -> None:
    with pytest.raises(ValueError, match="no grading outcome"):
        outcome_of_run("exploded")


def test_only_the_machinery_is_not_the_learners_doing() -> None:
    assert {o for o in OUTCOMES if rule(o).whose == "machinery"} == {"machinery-failure"}
    assert len({rule(o).status for o in OUTCOMES}) == len(OUTCOMES)  # each status says one thing
