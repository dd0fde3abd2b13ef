"""Feedback: what the learner reads about their run, added to the autograded notebook.

nbgrader's `generate_feedback` turns ``autograded/`` into per-learner HTML; anything written into
the autograded notebook shows up there. So the class command adds one Markdown cell at the top when
there is something to say: why the submission could not be graded, a restored test cell, the named
mistakes found in the failing tests. The cell has no nbgrader metadata, so scores are unaffected.

`EXTRA_FEEDBACK` is the hook for the helper package: functions `(notebook) -> list[cell]` whose
cells are appended after the note (e.g. the learner's timeline next to the reference for timing
questions, once `asyncourse.plot_comparison` can be rendered from a recording in the outputs).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import nbformat
from nbformat.v4 import new_markdown_cell

EXTRA_FEEDBACK: list[Callable[[nbformat.NotebookNode], list[Any]]] = []

HEADLINES: dict[str, str] = {
    "not-gradable": "This submission could not be graded",
    "kernel-died": "Your notebook stopped running",
    "memory": "Your notebook stopped running",
    "output-limit": "Your notebook stopped running",
    "machinery-failure": "Your notebook could not be run",
    "timeout": "A cell ran too long",
    "graded": "Notes from the grader",
}


def note_text(outcome: str, reason: str, notes: list[str], mistakes: list[str]) -> str:
    """The grading note's Markdown; `outcome` is a grading outcome (see `outcome`)."""
    lines = []
    if reason:
        lines.append(f"**{HEADLINES.get(outcome, 'Grading note')}:** {reason}.")
        if outcome not in ("graded", "timeout"):
            lines.append("It was graded 0 points. Fix this and submit again.")
    for note in notes:
        lines.append(f"- Note: {note}.")
    if mistakes:
        lines.append("\nThe tests found these mistakes:")
        lines.extend(f"- {m}" for m in dict.fromkeys(mistakes))
    return "\n".join(lines)


def annotate(nb: nbformat.NotebookNode, outcome: str, reason: str, notes: list[str],
             mistakes: list[str]) -> None:
    """Put the grading note (if any) and the helper package's extra cells at the top of `nb`."""
    text = note_text(outcome, reason, notes, mistakes)
    extra: list[Any] = []
    for hook in EXTRA_FEEDBACK:
        try:
            extra.extend(hook(nb))
        except Exception:  # a broken hook must not cost a learner their grade
            continue
    cells = ([new_markdown_cell(text, metadata={"tags": ["grading-note"]})] if text else [])
    nb.cells[0:0] = cells + extra
