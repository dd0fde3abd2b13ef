"""The `fetch_all` question graded end to end by the real nbgrader: an answer that fetches
concurrently gets full marks, a sequential one loses exactly the concurrency point, the untouched
student version gets nothing.

The question is found by its solution cell's grade_id wherever it lives in source/ (it moved from
ps1 to ps2 as the problem sets grew); the other questions of that assignment are answered with the
reference solutions, so full marks also prove every reference passes under `nbgrader autograde`.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from tests.support.course import Course, Result, fill_in
from tests.support.paths import SOURCE

QUESTION = "fetch_all"  # grade_id of the solution cell
RESULTS_TEST = "test_fetch_all_results"
TIMING_TEST = "test_fetch_all_concurrent"

# One worker grades the class once (the session fixture below) for every test here.
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("slice")]

CONCURRENT = '''
async def fetch_all(delays: list[float]) -> list[float]:
    """Fetch every delay at the same time (a TaskGroup, unlike the reference's gather)."""
    async with asyncio.TaskGroup() as tg:
        tasks = [tg.create_task(fetch(d)) for d in delays]
    return [task.result() for task in tasks]
'''

SEQUENTIAL = '''
async def fetch_all(delays: list[float]) -> list[float]:
    """Right results, but each fetch starts only after the previous one finished."""
    results = []
    for d in delays:
        results.append(await fetch(d))
    return results
'''


def _solution_cells(path: Path) -> dict[str, str]:
    """grade_id -> source of every solution cell of the notebook at ``path``."""
    nb = nbformat.read(path, as_version=4)
    return {
        cell.metadata["nbgrader"]["grade_id"]: cell.source
        for cell in nb.cells
        if cell.metadata.get("nbgrader", {}).get("solution")
    }


def _assignment_of(grade_id: str) -> str:
    for path in sorted(SOURCE.glob("*/*.ipynb")):
        if path.stem == path.parent.name and grade_id in _solution_cells(path):
            return path.parent.name
    raise LookupError(f"no source/<a>/<a>.ipynb has a solution cell {grade_id!r}")


@pytest.fixture(scope="session")  # survives interleaving with other modules
def graded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Course, dict[str, Result]]:
    assignment = _assignment_of(QUESTION)
    course = Course.create(tmp_path_factory.mktemp("slice") / "course", [assignment])
    release = course.release_notebook(assignment)
    references = _solution_cells(SOURCE / assignment / f"{assignment}.ipynb")
    for student, answer in [("concurrent", CONCURRENT), ("sequential", SEQUENTIAL)]:
        course.submit(student, assignment, fill_in(release, {**references, QUESTION: answer}))
    course.submit("untouched", assignment, release)
    course.autograde(assignment)
    return course, course.results(assignment)


def test_every_submission_is_graded(graded: tuple[Course, dict[str, Result]]) -> None:
    _, results = graded
    assert sorted(results) == ["concurrent", "sequential", "untouched"]
    assert len({r.max_score for r in results.values()}) == 1
    assert {RESULTS_TEST, TIMING_TEST} <= set(results["concurrent"].grades)


def test_concurrent_answer_gets_full_marks(graded: tuple[Course, dict[str, Result]]) -> None:
    _, results = graded
    assert results["concurrent"].full_marks, results["concurrent"]


def test_sequential_answer_loses_the_concurrency_point(
    graded: tuple[Course, dict[str, Result]],
) -> None:
    course, results = graded
    sequential = results["sequential"]
    results_test, timing_test = sequential.grades[RESULTS_TEST], sequential.grades[TIMING_TEST]
    assert results_test.score == results_test.max_score > 0, sequential
    assert timing_test.score == 0 < timing_test.max_score, sequential
    assert sequential.score == sequential.max_score - timing_test.max_score, sequential
    assignment = _assignment_of(QUESTION)
    said = course.cell_text("sequential", assignment, TIMING_TEST)
    assert "one after another" in said, f"the test cell should say why: {said!r}"


def test_untouched_release_scores_nothing(graded: tuple[Course, dict[str, Result]]) -> None:
    course, results = graded
    assert results["untouched"].score == 0.0, results["untouched"]
    said = course.cell_text("untouched", _assignment_of(QUESTION), RESULTS_TEST)
    assert "NotImplementedError" in said


def test_feedback_names_the_mistake(graded: tuple[Course, dict[str, Result]]) -> None:
    course, _ = graded
    html = course.feedback("sequential", _assignment_of(QUESTION))
    assert "one after another" in html
