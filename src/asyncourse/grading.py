"""Assertions for nbgrader test cells: each failure is one sentence that names the mistake.

A hidden test cell stays 2-6 lines::

    run = grade(fetch_all, [1.0, 2.0, 3.0])
    expect_equal(run.result, [10.0, 20.0, 30.0], what="fetch_all([1.0, 2.0, 3.0])")
    expect_elapsed(run, 3.0, sequential=6.0)

Failures raise ``GradingFailure`` (an ``AssertionError``) whose traceback, as IPython and so
nbgrader's feedback show it, is only the learner-facing message: no test code, nothing on stderr.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import math
import reprlib
import sys
import textwrap
import traceback
import warnings
from collections.abc import Iterable
from typing import Any

from .detect import FindingKind
from .errors import RunError
from .record import Kind
from .run import Run, merge_findings, run_virtual

__all__ = [
    "GradingFailure",
    "expect_elapsed",
    "expect_equal",
    "expect_max_concurrent",
    "expect_min_concurrent",
    "expect_no_findings",
    "grade",
]

_PLAIN_SCALARS = (int, float, str, bool, bytes, type(None), complex)
_PLAIN_CONTAINERS = (list, tuple, dict, set, frozenset)
_ASYNCIO_DIR = asyncio.__file__.rsplit("/", 1)[0]
#: Characters per line of a failure as a learner sees it (nbgrader's dialog cuts long lines).
WIDTH = 88
_short = reprlib.Repr()
_short.maxlist = 8
_short.maxstring = 60


class GradingFailure(AssertionError):
    """A test failed; the message says why in words a learner can act on."""

    def _render_traceback_(self) -> list[str]:
        """What IPython (and so nbgrader's Validate dialog and feedback) shows: the message,
        wrapped to fit a dialog, and no test code."""
        lines = f"{type(self).__name__}: {self}".splitlines()
        return [part for line in lines
                for part in textwrap.wrap(line, WIDTH, subsequent_indent="  ") or [""]]


def _fail(message: str) -> GradingFailure:
    return GradingFailure(message)


def _call_text(fn: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> str:
    name = getattr(fn, "__name__", None) or repr(fn)
    parts = [_short.repr(a) for a in args] + [f"{k}={_short.repr(v)}" for k, v in kwargs.items()]
    return f"{name}({', '.join(parts)})"


def _sanctioned(filename: str) -> bool:
    """asyncio's own code, or nest_asyncio's (``nest_asyncio.apply()`` replaces ``asyncio.run``)."""
    nest = sys.modules.get("nest_asyncio")
    return filename.startswith(_ASYNCIO_DIR) or (
        nest is not None and filename == getattr(nest, "__file__", None))


def _check_untampered() -> None:
    for name in ("sleep", "gather", "create_task", "wait_for", "run", "Task"):
        obj = getattr(asyncio, name)
        code = getattr(obj, "__code__", None)
        module = getattr(obj, "__module__", "") or ""
        if (code is not None and not _sanctioned(code.co_filename)) or (
                code is None and not module.startswith(("asyncio", "_asyncio"))):
            raise _fail(f"`asyncio.{name}` was replaced by the notebook: grading needs the real "
                        "one (this submission is marked for review)")


def _where_raised(exc: BaseException) -> str:
    frames = [f for f in traceback.extract_tb(exc.__traceback__)
              if not f.filename.startswith(_ASYNCIO_DIR) and "asyncourse" not in f.filename]
    return f" in `{frames[-1].name}` at line {frames[-1].lineno}" if frames else ""


def _describe(error: BaseException) -> str:
    """``ValueError: boom in `fetch` at line 3``; for a group, each error inside it."""
    if isinstance(error, BaseExceptionGroup):
        inner = "; ".join(_describe(e) for e in error.exceptions[:5])
        return f"{type(error).__name__} ({len(error.exceptions)} inside: {inner})"
    return f"{type(error).__name__}: {error}{_where_raised(error)}"


def grade(fn: Any, *args: Any, limit: float = 600.0, allow: Iterable[FindingKind] = (),
          **kwargs: Any) -> Run:
    """Run learner code in virtual time; fail naming the mistake, else return the ``Run``.

    >>> import asyncio
    >>> async def late(): await asyncio.sleep(5); return "ok"
    >>> grade(late).elapsed
    5.0
    """
    _check_untampered()
    if getattr(fn, "__globals__", {}).get("asyncio", asyncio) is not asyncio:
        raise _fail("the name `asyncio` in the notebook is not the asyncio module: grading "
                    "needs the real one (this submission is marked for review)")
    call = _call_text(fn, args, kwargs)
    try:
        # nbgrader fails a test cell that writes to stderr: a learner's warning or stray
        # print(file=sys.stderr) must not cost points, so neither reaches it
        with warnings.catch_warnings(record=True), contextlib.redirect_stderr(io.StringIO()):
            run = run_virtual(fn, *args, limit=limit, raise_errors=False, thorough=True, **kwargs)
    except NotImplementedError:
        raise _fail(f"`{call}` is not written yet: it still raises NotImplementedError") from None
    except TypeError as exc:
        raise _fail(f"`{call}`: {exc}") from None
    problems = []
    error = run.error
    if isinstance(error, NotImplementedError):
        raise _fail(f"`{call}` is not written yet: it still raises NotImplementedError")
    if isinstance(error, RunError):
        problems.append(f"`{call}`: {error}")
    elif error is not None:
        problems.append(f"`{call}` raised {_describe(error)}")
    tolerated = set(allow)
    problems += [f.message for f in merge_findings(run.findings) if f.kind not in tolerated]
    if problems:
        raise _fail("; ".join(problems) if len(problems) == 1 else
                    "\n".join(f"- {p}" for p in problems))
    return run


def _plain(value: Any, path: str = "the result") -> str | None:
    """Why ``value`` is not made of plain built-in types, or None if it is."""
    kind = type(value)
    if kind in _PLAIN_SCALARS:
        return None
    if asyncio.iscoroutine(value):
        name = getattr(value, "__qualname__", "a coroutine")
        return (f"{path} is a coroutine object of `{name}`, not its value: "
                f"the call to `{name}` was never awaited")
    if kind in _PLAIN_CONTAINERS:
        items = value.items() if kind is dict else enumerate(value)
        for key, item in list(items)[:10_000]:
            if kind is dict and (why := _plain(key, f"a key of {path}")):
                return why
            if why := _plain(item, f"{path}[{key!r}]" if kind is not set else f"an item of {path}"):
                return why
        return None
    return (f"{path} must be a plain {_base_name(value)}, not a {kind.__name__} "
            "(return built-in types)")


def _base_name(value: Any) -> str:
    for base in _PLAIN_CONTAINERS + _PLAIN_SCALARS:
        if isinstance(value, base):
            return base.__name__
    return "built-in value"


def expect_equal(actual: Any, expected: Any, *, what: str = "the result") -> None:
    """Fail unless ``actual`` equals ``expected``, compared as plain built-in values.

    >>> expect_equal([1, 2], [1, 2])
    >>> expect_equal([2, 1], [1, 2], what="fetch_all([1, 2])")
    Traceback (most recent call last):
    ...
    asyncourse.grading.GradingFailure: fetch_all([1, 2]) gave [2, 1] but should give [1, 2]: \
the right values in the wrong order (keep the input order)
    """
    why = _plain(actual, what)
    if why:
        raise _fail(why)
    if type(actual) is type(expected) and actual == expected:
        return
    if type(actual) is float and type(expected) is float and math.isclose(actual, expected):
        return
    message = f"{what} gave {_short.repr(actual)} but should give {_short.repr(expected)}"
    if (type(actual) is list and type(expected) is list and len(actual) == len(expected)
            and sorted(map(repr, actual)) == sorted(map(repr, expected))):
        message += ": the right values in the wrong order (keep the input order)"
    elif type(actual) is not type(expected):
        message += f" (a {type(actual).__name__} instead of a {type(expected).__name__})"
    raise _fail(message)


def _s(x: float) -> str:
    return f"{x:.1f}" if abs(x - round(x, 1)) < 1e-9 else f"{x:g}"


def expect_elapsed(run: Run, expected: float, *, sequential: float | None = None,
                   what: str | None = None) -> None:
    """Fail unless the run took ``expected`` virtual seconds.

    ``sequential`` is what it takes when the awaits run one after another; matching it gets the
    message that names that mistake.

    >>> import asyncio
    >>> from asyncourse import run_virtual
    >>> async def one_by_one():
    ...     await asyncio.sleep(1); await asyncio.sleep(2)
    >>> expect_elapsed(run_virtual(one_by_one), 2.0, sequential=3.0, what="both")
    Traceback (most recent call last):
    ...
    asyncourse.grading.GradingFailure: both took 3.0 virtual seconds, the sum of the delays: \
the calls ran one after another. Start them all before awaiting any (asyncio.gather, a TaskGroup \
or create_task) so that it takes 2.0 s, the longest one.
    """
    label = what or "the run"
    took = run.elapsed
    if math.isclose(took, expected, rel_tol=1e-9, abs_tol=1e-9):
        return
    if sequential is not None and math.isclose(took, sequential, rel_tol=1e-9, abs_tol=1e-9):
        raise _fail(
            f"{label} took {_s(took)} virtual seconds, the sum of the delays: the calls ran one "
            "after another. Start them all before awaiting any (asyncio.gather, a TaskGroup or "
            f"create_task) so that it takes {_s(expected)} s, the longest one.")
    if took > expected:
        raise _fail(f"{label} took {_s(took)} virtual seconds; it should take {_s(expected)} s")
    raise _fail(f"{label} finished after only {_s(took)} virtual seconds; it should take "
                f"{_s(expected)} s: some of the work was skipped or never awaited, or more of it "
                "ran at once than allowed")


def expect_max_concurrent(run: Run, limit: int, *, kind: Kind = "timer",
                          what: str = "tasks") -> None:
    """Fail if more than ``limit`` tasks were in an interval of ``kind`` at the same moment."""
    most = run.recording.max_concurrent(kind)
    if most > limit:
        raise _fail(f"up to {most} {what} ran at the same time, but at most {limit} may run at "
                    "once (check where the limit, e.g. the Semaphore, is acquired)")


def expect_min_concurrent(run: Run, count: int, *, kind: Kind = "timer",
                          what: str = "tasks") -> None:
    """Fail unless at some moment at least ``count`` tasks were in an interval of ``kind``."""
    most = run.recording.max_concurrent(kind)
    if most < count:
        alone = "they ran one after another" if most <= 1 else f"at most {most} ran at once"
        raise _fail(f"{count} {what} should run at the same time, but {alone}")


def expect_no_findings(run: Run) -> None:
    """Fail if the run left any finding (never-awaited coroutine, blocked loop, lost task)."""
    messages = run.messages()
    if messages:
        raise _fail("; ".join(messages))
