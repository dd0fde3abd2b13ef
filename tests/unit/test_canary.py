"""The canary covers every notebook of an assignment, each with the assignment's files."""

from __future__ import annotations

from pathlib import Path

import nbformat

from autograder.execution import Limits
from autograder.grading.canary import canary_jobs
from tests.support import pair


def test_every_notebook_gets_a_reference_and_an_untouched_job_with_the_data_files(
        tmp_path: Path) -> None:
    sources = [pair.FOLDER / f"{nb}.ipynb" for nb in pair.NOTEBOOKS]
    stubs = []
    for path in sources:  # what generate_assignment leaves of a solution: the stub
        nb = nbformat.read(path, as_version=4)
        for cell in nb.cells:
            if cell.metadata["nbgrader"].get("solution"):
                cell.source = "# YOUR CODE HERE\nraise NotImplementedError()"
        nbformat.write(nb, tmp_path / path.name)
        stubs.append(tmp_path / path.name)
    jobs = canary_jobs(list(zip(sources, stubs, strict=True)), Limits(), sandbox=False,
                       hidden=())
    assert [(kind, job.notebook_id) for kind, job in jobs] == [
        ("reference", "part1"), ("untouched", "part1"), ("reference", "part2"),
        ("untouched", "part2")]
    for _, job in jobs:  # the data file, never the instructor's other notebook
        assert job.files == {"values.csv": b"3\n1\n4\n1\n5\n"}, job
        assert job.assignment == "pair"
    untouched = nbformat.reads(jobs[1][1].notebook, as_version=4)
    assert "raise NotImplementedError()" in untouched.cells[1].source
    assert "BEGIN HIDDEN TESTS" in untouched.cells[2].source  # the tests stay the instructor's
