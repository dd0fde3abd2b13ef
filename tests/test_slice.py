"""ps1 graded end to end by the real nbgrader: a concurrent answer gets full marks, a sequential
one loses the concurrency point, the untouched student version gets nothing."""

from __future__ import annotations

import pytest

from autograder.course import Course, Result, fill_in

# One worker grades the class once (the module fixture) for every test here.
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("slice-ps1")]

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


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Course, dict[str, Result]]:
    course = Course.create(tmp_path_factory.mktemp("slice") / "course", ["ps1"])
    release = course.release_notebook("ps1")
    course.submit("concurrent", "ps1", fill_in(release, {"fetch_all": CONCURRENT}))
    course.submit("sequential", "ps1", fill_in(release, {"fetch_all": SEQUENTIAL}))
    course.submit("untouched", "ps1", release)
    course.autograde("ps1")
    return course, course.results("ps1")


def test_every_submission_is_graded(graded: tuple[Course, dict[str, Result]]) -> None:
    _, results = graded
    assert sorted(results) == ["concurrent", "sequential", "untouched"]
    assert {r.max_score for r in results.values()} == {2.0}


def test_concurrent_answer_gets_full_marks(graded: tuple[Course, dict[str, Result]]) -> None:
    _, results = graded
    assert results["concurrent"].full_marks, results["concurrent"]


def test_sequential_answer_loses_the_concurrency_point(
    graded: tuple[Course, dict[str, Result]],
) -> None:
    course, results = graded
    grades = results["sequential"].grades
    assert grades["test_fetch_all_results"].score == 1.0, results["sequential"]
    assert grades["test_fetch_all_concurrent"].score == 0.0, results["sequential"]
    assert results["sequential"].score == 1.0
    said = course.cell_text("sequential", "ps1", "test_fetch_all_concurrent")
    assert "one after another" in said, f"feedback should say why: {said!r}"


def test_untouched_release_scores_nothing(graded: tuple[Course, dict[str, Result]]) -> None:
    _, results = graded
    assert results["untouched"].score == 0.0, results["untouched"]
    said = graded[0].cell_text("untouched", "ps1", "test_fetch_all_results")
    assert "NotImplementedError" in said


def test_feedback_names_the_mistake(graded: tuple[Course, dict[str, Result]]) -> None:
    course, _ = graded
    html = course.feedback("sequential", "ps1")
    assert "one after another" in html
