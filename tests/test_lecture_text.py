"""Sentences that taught a wrong model stay out of the lectures (each was corrected once).

The corrected claims themselves are checked from executed outputs in ``test_lectures_*.py``;
this guards the prose against the old wording coming back, e.g. in a merge.
"""

from __future__ import annotations

import re

import nbformat
import pytest

from tests.support.paths import NOTEBOOKS, REPO

# notebook -> wrong sentence (whitespace-insensitive) and what is true instead
WRONG_SENTENCES = [
    ("02_awaitables", "Nothing else of yours runs meanwhile",
     "other ready tasks run whenever the awaited coroutine suspends"),
    ("02_awaitables", "Tasks start running as soon as they are created",
     "a task starts at its creator's next suspension (unless the eager task factory is set)"),
    ("01_coroutine_objects", "ran quietly and did the wrong thing",
     "yield from a plain generator fails inside the task: Task got bad yield"),
    ("06_pitfalls", "or a slow computation", "to_thread helps waiting, not computing (the GIL)"),
    ("06_pitfalls", "heavy computation) stops every task", "CPU-bound work needs processes"),
    ("08_beyond", "Yes, at once, at the moment of the cancellation",
     "cancel() only schedules CancelledError; finally runs at the task's next turn"),
    ("08_beyond", "asks for timeouts, a concurrency limit", "ps2 asked for the timeout, not ps4"),
]


def _text(stem: str) -> str:
    nb = nbformat.read(NOTEBOOKS / f"{stem}.ipynb", as_version=4)
    return re.sub(r"\s+", " ", "\n".join(c.source for c in nb.cells))


@pytest.mark.parametrize(("stem", "wrong", "instead"), WRONG_SENTENCES,
                         ids=[f"{s}: {w[:30]}" for s, w, _ in WRONG_SENTENCES])
def test_a_corrected_sentence_stays_gone(stem: str, wrong: str, instead: str) -> None:
    assert wrong not in _text(stem), f"{stem} says {wrong!r} again; true is: {instead}"


def test_ps1_intro_does_not_say_every_await_ends_at_a_future() -> None:
    nb = nbformat.read(REPO / "source" / "ps1" / "ps1.ipynb", as_version=4)
    intro = re.sub(r"\s+", " ", nb.cells[0].source)
    assert "At the bottom of every await sits a `Future`" not in intro
    assert "`asyncio.sleep(0)` ends at a bare `yield`" in intro


def test_learners_are_told_where_to_work() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    welcome = _text("00_welcome")
    for text in (readme, welcome):
        assert "make exercises" in text and "exercises/ps1/ps1.ipynb" in text
        assert "never overwrites" in text and "Validate" in text
