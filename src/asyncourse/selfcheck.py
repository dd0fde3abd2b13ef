"""Self-checks in the lectures: a check cell says in one sentence whether an attempt is right.

A lecture's self-check is two cells: one the learner completes, then a check cell such as::

    with self_check("right: both downloads waited at the same time (2.0 s)"):
        run = grade(fetch_both)
        expect_elapsed(run, 2.0, sequential=3.0, what="fetch_both()")

It prints ``right: ...`` when every check passes, or ``not yet: <the sentence>`` with the first
failure of ``grade`` / the ``expect_*`` helpers (which name the mistake). It never raises for a
wrong attempt and writes nothing to stderr, so a lecture runs top to bottom whatever the learner
wrote. ``expect_answer`` checks a predicted value (a number, a word, a list) against the mistakes
learners typically make, without showing the right answer in its message. Nothing here is graded.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from types import TracebackType
from typing import Any

from .grading import GradingFailure

__all__ = ["expect_answer", "self_check"]


class self_check:  # lower case: used like a function, `with self_check(...):`
    """Print ``right: <praise>`` if the block passes, else ``not yet: <what is wrong>``.

    >>> with self_check("right: 2 + 2 is 4"):
    ...     expect_answer(2 + 2, 4)
    right: 2 + 2 is 4
    >>> with self_check("right"):
    ...     expect_answer(5, 4, mistakes={5: "that is one too many"})
    not yet: that is one too many
    """

    def __init__(self, praise: str) -> None:
        self.praise = praise

    def __enter__(self) -> self_check:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 tb: TracebackType | None) -> bool:
        if error is None:
            print(self.praise)
            return False
        if isinstance(error, GradingFailure):
            print(f"not yet: {error}")
            return True
        if isinstance(error, NameError):
            print(f"not yet: {error}: run the cell with your answer first")
            return True
        return False

    def __repr__(self) -> str:
        return f"self_check({self.praise!r})"


def _same(answer: Any, expected: Any) -> bool:
    if isinstance(answer, bool) or isinstance(expected, bool):
        return type(answer) is type(expected) and answer == expected
    if isinstance(answer, int | float) and isinstance(expected, int | float):
        return math.isclose(answer, expected, rel_tol=1e-9, abs_tol=1e-9)
    if isinstance(answer, list | tuple) and isinstance(expected, list | tuple):
        return len(answer) == len(expected) and all(map(_same, answer, expected))
    if isinstance(answer, str) and isinstance(expected, str):
        return answer.strip().lower() == expected.strip().lower()
    return bool(answer == expected)


def expect_answer(answer: Any, expected: Any, *, what: str = "your answer",
                  mistakes: Mapping[Any, str] | None = None,
                  hint: str = "look again at the cells above") -> None:
    """Fail unless ``answer`` is ``expected``; a known wrong answer gets its own sentence.

    Numbers compare with a tolerance, strings without case or surrounding spaces, lists and
    tuples item by item. A wrong answer that is not in ``mistakes`` gets ``hint``; neither
    message shows ``expected``.

    >>> expect_answer(None, 3.0, what="the total")
    Traceback (most recent call last):
    ...
    asyncourse.grading.GradingFailure: the total is still None: put your answer in the cell above
    """
    if answer is None or answer is Ellipsis:
        raise GradingFailure(f"{what} is still {answer!r}: put your answer in the cell above")
    if _same(answer, expected):
        return
    for wrong, sentence in (mistakes or {}).items():
        if _same(answer, wrong):
            raise GradingFailure(sentence)
    raise GradingFailure(f"{what}, {answer!r}, is not it: {hint}")
