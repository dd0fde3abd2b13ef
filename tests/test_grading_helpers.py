"""Grading helpers: each failure names the mistake, shows no test code, prints nothing."""

from __future__ import annotations

import asyncio
import time

import pytest

from asyncourse import (
    GradingFailure,
    expect_elapsed,
    expect_equal,
    expect_max_concurrent,
    expect_min_concurrent,
    expect_no_findings,
    grade,
    run_virtual,
)


async def fetch(d: float) -> float:
    await asyncio.sleep(d)
    return d * 10


async def sequential(ds: list[float]) -> list[float]:
    return [await fetch(d) for d in ds]


async def concurrent(ds: list[float]) -> list[float]:
    return list(await asyncio.gather(*(fetch(d) for d in ds)))


def test_a_correct_solution_passes_quietly(capfd: pytest.CaptureFixture[str]) -> None:
    run = grade(concurrent, [1.0, 3.0, 2.0])
    expect_equal(run.result, [10.0, 30.0, 20.0], what="fetch_all([1.0, 3.0, 2.0])")
    expect_elapsed(run, 3.0, sequential=6.0)
    expect_min_concurrent(run, 3)
    assert capfd.readouterr() == ("", "")


def test_sequential_solution_is_told_why() -> None:
    run = grade(sequential, [1.0, 3.0, 2.0])
    with pytest.raises(GradingFailure, match="ran one after another"):
        expect_elapsed(run, 3.0, sequential=6.0, what="fetch_all([1.0, 3.0, 2.0])")
    with pytest.raises(GradingFailure, match="3 tasks should run at the same time, but they ran "
                                             "one after another"):
        expect_min_concurrent(run, 3)


def test_traceback_shows_only_the_message() -> None:
    try:
        expect_equal([3, 1], [1, 3], what="order([1, 3])")
    except GradingFailure as failure:
        lines = failure._render_traceback_()
    assert lines == [
        "GradingFailure: order([1, 3]) gave [3, 1] but should give [1, 3]: the right values in",
        "  the wrong order (keep the input order)"]


def test_fake_equality_and_coroutines_in_results_fail() -> None:
    class Always(list[int]):
        def __eq__(self, other: object) -> bool:
            return True

    with pytest.raises(GradingFailure, match="must be a plain list, not a Always"):
        expect_equal(Always([0]), [1, 2])
    forgotten = fetch(1)
    with pytest.raises(GradingFailure, match="coroutine object of `fetch`"):
        expect_equal([forgotten], [10])
    forgotten.close()


def test_grade_names_each_kind_of_mistake() -> None:
    async def forgets() -> None:
        fetch(1)

    async def blocks() -> None:
        time.sleep(2)

    async def raises() -> None:
        raise KeyError("missing")

    async def todo() -> None:
        raise NotImplementedError()

    async def hangs() -> None:
        await asyncio.Event().wait()

    def not_async() -> None:
        pass

    cases = [(forgets, "the coroutine `fetch` created at line"),
             (blocks, "blocked 2.0 s by `time.sleep` in `blocks`"),
             (raises, "`raises()` raised KeyError: 'missing' in `raises` at line"),
             (todo, "`todo()` is not written yet"),
             (hangs, "would wait forever"),
             (not_async, "`not_async` is not a coroutine function")]
    for fn, words in cases:
        with pytest.raises(GradingFailure) as failure:
            grade(fn)
        assert words in str(failure.value), fn.__name__
    assert grade(blocks, allow=["blocking-call"]).elapsed == 2.0


def test_concurrency_limits() -> None:
    async def limited(limit: int) -> None:
        gate = asyncio.Semaphore(limit)

        async def one(d: float) -> None:
            async with gate:
                await fetch(d)

        await asyncio.gather(*(one(1) for _ in range(6)))

    expect_max_concurrent(grade(limited, 2), 2)
    with pytest.raises(GradingFailure, match="up to 3 tasks ran at the same time, but at most 2"):
        expect_max_concurrent(grade(limited, 3), 2)


def test_elapsed_too_short_and_findings() -> None:
    async def skips() -> None:
        await asyncio.sleep(1)

    with pytest.raises(GradingFailure, match=r"finished after only 1\.0 virtual seconds"):
        expect_elapsed(grade(skips), 2.0)

    async def leaves_task() -> None:
        asyncio.create_task(fetch(3))  # noqa: RUF006  (the mistake under test)

    with pytest.raises(GradingFailure, match="work was lost"):
        expect_no_findings(run_virtual(leaves_task))


def test_replaced_asyncio_is_refused() -> None:
    real = asyncio.sleep

    async def fake_sleep(delay: float, result: object = None) -> object:
        return result

    asyncio.sleep = fake_sleep  # type: ignore[assignment]
    try:
        with pytest.raises(GradingFailure, match=r"`asyncio\.sleep` was replaced"):
            grade(concurrent, [1.0])
    finally:
        asyncio.sleep = real


def test_nest_asyncio_is_not_tampering() -> None:
    """nest_asyncio.apply() replaces asyncio.run; a notebook that uses it is graded as usual."""
    import subprocess
    import sys

    script = ("import asyncio, nest_asyncio\n"
              "from asyncourse import grade\n"
              "async def late():\n    await asyncio.sleep(2)\n    return 'ok'\n"
              "nest_asyncio.apply(asyncio.new_event_loop())\n"
              "print(grade(late).result, asyncio.run(late()))\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=60, check=False)
    assert (done.stdout, done.stderr) == ("ok ok\n", "")


def test_learner_stderr_does_not_reach_the_test_cell(capfd: pytest.CaptureFixture[str]) -> None:
    import sys
    import warnings

    async def noisy() -> int:
        print("debugging", file=sys.stderr)
        warnings.warn("deprecated thing", DeprecationWarning, stacklevel=1)
        return 1

    assert grade(noisy).result == 1
    assert capfd.readouterr().err == ""


def test_coroutines_kept_by_an_error_are_not_blamed_on_a_later_run() -> None:
    """A failing answer's traceback keeps its un-awaited coroutines alive; they are reported by
    that run, and freeing them later does not fail the next question."""
    import gc

    async def forgets_then_fails() -> list[object]:
        pending = [fetch(d) for d in (1.0, 2.0)]
        filler = [object() for _ in range(50_000)]  # enough allocation to age the coroutines
        return [p.text for p in pending] + filler  # type: ignore[attr-defined]

    kept: list[BaseException] = []  # as IPython keeps the last error (sys.last_value)
    try:
        grade(forgets_then_fails)
    except GradingFailure as failure:
        kept.append(failure)
    assert "was never awaited" in str(kept[0])

    async def honest() -> float:
        kept.clear()  # the next cell's error replaces the last one: its frames are freed now
        gc.collect()
        return await fetch(1.0)

    assert grade(honest).result == 10.0
