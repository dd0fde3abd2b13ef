"""A learner's grade is the same on Python 3.11 and 3.13.

The one call the bank knows to answer differently across those versions is
``asyncio.iscoroutine``: it says True for a plain generator on 3.11 and False from 3.12 on
(3.12 dropped generator-based coroutines). ps1 Part B defines the kinds so that an answer built
on it loses the same point on both versions (a visible check with a generator catches it on
3.11, a hidden check with a ``collections.abc.Coroutine`` look-alike on every version), and the
reference (``inspect``) answers alike everywhere. Here the answers of ps1 B's bank are graded
in-process under both behaviours of ``asyncio.iscoroutine``. Scheduling-sensitive changes between
versions (``as_completed``'s set of coroutines, ``Semaphore`` wake-up order) are what the property
checks of ps2 D and ps4 A/B are for; the whole bank graded under another interpreter (set
``ASYNCOURSE_OTHER_PYTHONS`` to its path, several separated by ``os.pathsep``) gives every entry
the same outcome as this one.
"""

from __future__ import annotations

import asyncio
import collections.abc
import inspect
import os
import sys
import types
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from tests.support.inprocess import graded_elsewhere, payload, run_cells
from tests.test_bank import ASSIGNMENTS, Entry, entries


def generator() -> Iterator[int]:
    yield 1


class LookAlike(collections.abc.Coroutine[Any, Any, Any]):
    def send(self, value: object) -> Any:
        raise StopIteration(value)

    def throw(self, *args: object) -> Any:
        raise StopIteration

    def __await__(self) -> Any:
        return (yield)


def test_the_calls_that_differ_and_those_that_do_not() -> None:
    gen = generator()
    assert asyncio.iscoroutine(gen) is (sys.version_info < (3, 12))
    assert (inspect.iscoroutine(gen), inspect.isawaitable(gen)) == (False, False)
    assert (asyncio.iscoroutine(LookAlike()), inspect.iscoroutine(LookAlike())) == (True, False)
    assert inspect.isawaitable(LookAlike())


def _iscoroutine_of(version: tuple[int, int]) -> Callable[[object], bool]:
    kinds: tuple[type, ...] = (types.CoroutineType, collections.abc.Coroutine)
    if version < (3, 12):
        kinds += (types.GeneratorType,)
    return lambda obj: isinstance(obj, kinds)


KIND = [e for e in entries("ps1") if e.question == "kind"]


@pytest.mark.parametrize("entry", KIND, ids=[e.name for e in KIND])
def test_kind_grades_alike_under_both_behaviours(entry: Entry,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    job = payload("ps1", "kind", entry.source)
    grades = {}
    for version in [(3, 11), (3, 13)]:
        monkeypatch.setattr(asyncio, "iscoroutine", _iscoroutine_of(version))
        outcomes = run_cells(job["provided"], job["answer"], job["tests"])
        grades[version] = [(o.cell, o.passed) for o in outcomes]
    assert grades[(3, 11)] == grades[(3, 13)], grades
    assert all(passed for _, passed in grades[(3, 11)]) == entry.correct


OTHERS = [p for p in os.environ.get("ASYNCOURSE_OTHER_PYTHONS", "").split(os.pathsep) if p]


@pytest.mark.slow
@pytest.mark.skipif(not OTHERS, reason="set ASYNCOURSE_OTHER_PYTHONS to other interpreters")
@pytest.mark.parametrize("python", OTHERS)
def test_every_bank_entry_grades_alike_on_another_python(python: str) -> None:
    bank = [e for a in ASSIGNMENTS for e in entries(a)]

    def both(e: Entry) -> tuple[str, list[bool], list[bool]]:
        here = graded_elsewhere(e.assignment, e.question, e.source)
        there = graded_elsewhere(e.assignment, e.question, e.source, python=python)
        return (f"{e.assignment}/{e.question}/{e.name}", [o.passed for o in here],
                [o.passed for o in there])

    with ThreadPoolExecutor(max_workers=2) as pool:
        differ = [(name, a, b) for name, a, b in pool.map(both, bank) if a != b]
    assert not differ, f"graded differently on {python}: {differ}"
