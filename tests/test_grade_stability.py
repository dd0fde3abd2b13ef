"""A grade does not depend on what a fresh kernel does not fix (issue 14): here the iteration
order of a set of objects hashed by identity.

`asyncio.as_completed` puts the coroutines it is given in a set, so which fetch starts first
depends on where the coroutine objects landed in memory, and that differs from kernel to kernel.
The bank's `as_completed_semaphore.py` answer to ps2 Part D starts its fetches in that order.
Graded in 20 fresh Python processes with different allocation histories, its schedules differ
(the test checks that they do, or it would prove nothing) and its grade does not.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.support.inprocess import graded_elsewhere
from tests.support.paths import BANK

ENTRY = BANK / "ps2" / "fetch_limited" / "as_completed_semaphore.py"
KERNELS = 20


@pytest.mark.slow
def test_as_completed_order_changes_the_schedule_not_the_grade() -> None:
    answer = ENTRY.read_text(encoding="utf-8")

    def kernel(history: int) -> tuple[tuple[bool, ...], str]:
        outcomes = graded_elsewhere("ps2", "fetch_limited", answer, allocate=history * 37)
        return (tuple(o.passed for o in outcomes),
                json.dumps([o.schedules for o in outcomes]))

    with ThreadPoolExecutor(max_workers=2) as pool:  # 2 cores, shared
        results = list(pool.map(kernel, range(KERNELS)))
    grades = {passed for passed, _ in results}
    schedules = {runs for _, runs in results}
    assert grades == {(True, True)}, f"the grade changed with the allocation history: {grades}"
    assert len(schedules) > 1, "every process scheduled alike: this test proves nothing here"
