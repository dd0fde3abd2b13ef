"""Learner text made safe for where the grader writes it: terminals, CSV files and notebooks.

Everything a learner controls (file names, cell sources, outputs, exception messages) reaches the
instructor's terminal, spreadsheets and the notebook files the grader writes. Three rules, one
module, used wherever such text leaves the grader:

- `printable`: control characters (terminal escapes: screen clearing, window titles, OSC 52
  clipboard writes; bidirectional overrides) are shown as escapes, never interpreted;
- `neutralise`: a CSV cell that a spreadsheet would run as a formula gets a leading ``'``;
- `without_surrogates`: a lone surrogate (valid in a Python string, not in UTF-8) becomes U+FFFD,
  so writing the notebook cannot fail after its score was committed;
- `defused`: nbgrader's own markers (``### BEGIN HIDDEN TESTS`` ...) in learner text get an
  invisible space, so nbgrader's preprocessors (which read every cell of the feedback) never take
  them for the instructor's.
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["defused", "neutralise", "printable", "without_surrogates"]

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_SURROGATE = re.compile("[\ud800-\udfff]")


def printable(text: str, limit: int | None = 120) -> str:
    """`text` safe to print: control characters shown as escapes, at most `limit` characters."""
    shown = "".join(ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii")
                    for ch in text)
    if limit is None or len(shown) <= limit:
        return shown
    return shown[:limit - 1] + "…"


def neutralise(text: str) -> str:
    """A text cell a spreadsheet shows as text: formula starts get a leading ``'``."""
    return "'" + text if text.startswith(_FORMULA_START) else text


MARKERS = ("BEGIN HIDDEN TESTS", "END HIDDEN TESTS", "BEGIN SOLUTION", "END SOLUTION")


def defused(text: str) -> str:
    """`text` with nbgrader's markers broken by a zero-width space (it reads the same)."""
    for marker in MARKERS:
        if marker in text:
            first, rest = marker.split(" ", 1)
            text = text.replace(marker, f"{first}\u200b {rest}")
    return text


def without_surrogates(value: Any) -> Any:
    """`value` (str, or lists and dicts of them, as a notebook is) with lone surrogates replaced."""
    if isinstance(value, str):
        return _SURROGATE.sub("\ufffd", value) if _SURROGATE.search(value) else value
    if isinstance(value, list):
        return [without_surrogates(v) for v in value]
    if isinstance(value, dict):
        return type(value)((without_surrogates(k), without_surrogates(v))
                           for k, v in value.items())
    return value
