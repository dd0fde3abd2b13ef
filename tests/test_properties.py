"""Property checks (asyncourse.properties): every schedule the rule allows passes, every one it
forbids fails with the moment named. In-process, no kernel: the fast tier."""

from __future__ import annotations

import asyncio
import math

import pytest

from asyncourse import (
    GradingFailure,
    Job,
    calls,
    expect_calls,
    expect_slots,
    grade,
    run_virtual,
    slot_problem,
)


async def fetch(d: float) -> float:
    await asyncio.sleep(abs(d))
    return d * 10


async def semaphore(delays: list[float], limit: int) -> list[float]:
    gate = asyncio.Semaphore(limit)

    async def one(d: float) -> float:
        async with gate:
            return await fetch(d)

    return list(await asyncio.gather(*(one(d) for d in delays)))


async def longest_first(delays: list[float], limit: int) -> list[float]:
    return await semaphore(sorted(delays, reverse=True), limit)


async def as_completed_order(delays: list[float], limit: int) -> list[float]:
    gate = asyncio.Semaphore(limit)

    async def one(d: float) -> float:
        async with gate:
            return await fetch(d)

    return [await f for f in asyncio.as_completed([one(d) for d in delays])]


async def batches(delays: list[float], limit: int) -> list[float]:
    out: list[float] = []
    for i in range(0, len(delays), limit):
        out += await asyncio.gather(*(fetch(d) for d in delays[i:i + limit]))
    return out


async def one_by_one(delays: list[float], limit: int) -> list[float]:
    return [await fetch(d) for d in delays]


async def too_many(delays: list[float], limit: int) -> list[float]:
    return await semaphore(delays, limit + 1)


async def imitation(delays: list[float], limit: int) -> list[float]:
    await asyncio.sleep(min(delays))
    return [d * 10 for d in delays]


DELAYS = [3.0, 1.0, 1.0, 1.0, 2.0]


@pytest.mark.parametrize("answer", [semaphore, longest_first, as_completed_order])
def test_every_work_conserving_order_passes(answer: object) -> None:
    run = grade(answer, DELAYS, 2)
    expect_slots(expect_calls(run, "fetch", DELAYS), 2, what="fetches")


def test_two_right_orders_end_at_different_times() -> None:
    """The reason for the property: 5 s in the order given, 4 s longest first."""
    assert run_virtual(semaphore, DELAYS, 2).elapsed == 5.0
    assert run_virtual(longest_first, DELAYS, 2).elapsed == 4.0


def test_an_idle_slot_is_named_with_its_moment() -> None:
    jobs = expect_calls(grade(batches, [1.0, 2.0, 1.0, 1.0], 2), "fetch", [1.0, 2.0, 1.0, 1.0])
    with pytest.raises(GradingFailure) as failure:
        expect_slots(jobs, 2, what="fetches")
    assert str(failure.value) == (
        "at 1.0 s one of the 2 slots sat idle while `fetch(1.0)` was waiting to start (it started "
        "only at 2.0 s): start the next one as soon as one finishes")


def test_one_after_another_is_said() -> None:
    jobs = calls(grade(one_by_one, [1.0, 2.0], 2), "fetch")
    with pytest.raises(GradingFailure, match=r"at 0\.0 s one of the 2 slots sat idle while "
                                             r"`fetch\(2\.0\)`.*\(the fetches ran one after "
                                             "another\\)$"):
        expect_slots(jobs, 2, what="fetches")


def test_too_many_at_once_is_named() -> None:
    jobs = calls(grade(too_many, [1.0, 2.0, 1.0, 1.0], 2), "fetch")
    with pytest.raises(GradingFailure, match=r"^f\(\): at 0\.0 s 3 fetches ran at the same time "
                                             r".*at most 2 may run at once"):
        expect_slots(jobs, 2, what="fetches", call="f()")


def test_an_imitation_earns_nothing() -> None:
    run = grade(imitation, [1.0, 2.0], 2)
    with pytest.raises(GradingFailure, match="never called `fetch`"):
        expect_calls(run, "fetch", [1.0, 2.0], what="fetch_limited")


def test_a_missing_or_doubled_call_is_named() -> None:
    run = grade(semaphore, [1.0, 2.0], 2)
    with pytest.raises(GradingFailure, match=r"`fetch\(3\.0\)` ran to its end 0 time\(s\) "
                                             "instead of 1"):
        expect_calls(run, "fetch", [1.0, 2.0, 3.0])
    with pytest.raises(GradingFailure, match=r"called `fetch\(2\.0\)` 1 time\(s\) instead of 0"):
        expect_calls(run, "fetch", [1.0])


def test_cancelled_calls_count_only_when_asked() -> None:
    async def first(delays: list[float]) -> float:
        tasks = [asyncio.create_task(fetch(d)) for d in delays]
        done, pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        return done.pop().result()

    run = grade(first, [3.0, 1.0])
    assert sorted((j.seconds, j.finished) for j in calls(run, "fetch")) == [
        (1.0, True), (3.0, False)]
    assert len(expect_calls(run, "fetch", [3.0, 1.0], finished=False)) == 2
    with pytest.raises(GradingFailure):
        expect_calls(run, "fetch", [3.0, 1.0])


def test_ready_times_and_work_never_started() -> None:
    """A crawler's page waits from when a link to it was found; a page never fetched waits for
    ever."""
    found_late = [Job("a", 0.0, 1.0), Job("b", 1.0, 3.0, ready=1.0), Job("c", 1.0, 2.0, ready=1.0)]
    assert slot_problem(found_late, 2) is None
    never = [*found_late, Job("d", math.inf, math.inf, ready=2.0)]
    assert slot_problem(never, 2) == (
        "at 2.0 s one of the 2 slots sat idle while d was waiting to start (it never started): "
        "start the next one as soon as one finishes")
    assert "the only slot sat idle" in str(slot_problem([Job("a", 1.0, 2.0)], 1))
    assert "both slots sat idle" in str(slot_problem([Job("a", 1.0, 2.0)], 2))


def test_jobs_end_and_start_at_the_same_instant() -> None:
    """Half-open: one ending at t and the next starting at t are never two at once."""
    assert slot_problem([Job("a", 0.0, 1.0), Job("b", 1.0, 2.0)], 1) is None
    assert slot_problem([Job("a", 0.1 + 0.2, 1.0), Job("b", 0.0, 0.3)], 1) is None


def test_checks_print_nothing(capfd: pytest.CaptureFixture[str]) -> None:
    run = grade(batches, DELAYS, 2)
    with pytest.raises(GradingFailure):
        expect_slots(expect_calls(run, "fetch", DELAYS), 2)
    assert capfd.readouterr() == ("", "")
