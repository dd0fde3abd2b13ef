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

import functools
import html
import re
from collections.abc import Callable, Sequence
from typing import Any

import nbformat
from nbformat.v4 import new_markdown_cell, new_notebook

from autograder.text import defused

HIDDEN_MARK = "BEGIN HIDDEN TESTS"  # nbgrader's ClearHiddenTests.begin_test_delimeter
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_CELL_FRAME = re.compile(r"^Cell In\[(\d+)\]")
NOT_SHOWN = "(the rest is the test's own code, which is not shown)"

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


def _markdown_text(text: str) -> str:
    """Learner-derived words shown as words in Markdown: no HTML (escaped), no link or image
    (brackets escaped). Backticks stay: the grader's own notes use them for code."""
    return re.sub(r"([\\\[\]])", r"\\\1", html.escape(defused(text), quote=False))


def note_text(outcome: str, reason: str, notes: list[str], mistakes: list[str]) -> str:
    """The grading note's Markdown; `outcome` is a grading outcome (see `outcome`). The reason,
    notes and mistakes can carry learner text (file names, exception messages): escaped."""
    reason = _markdown_text(reason)
    notes = [_markdown_text(n) for n in notes]
    mistakes = [_markdown_text(m) for m in mistakes]
    lines = []
    if reason:
        lines.append(f"**{HEADLINES.get(outcome, 'Grading note')}:** {reason}.")
        if outcome == "not-gradable":
            lines.append(NO_GRADE)
        elif outcome not in ("graded", "timeout"):
            lines.append("It was graded 0 points. Fix this and submit again.")
    for note in notes:
        lines.append(f"- Note: {note}.")
    if mistakes:
        lines.append("\nThe tests found these mistakes:")
        lines.extend(f"- {m}" for m in dict.fromkeys(mistakes))
    return "\n".join(lines)


NO_GRADE = "No grade was given for it (not even 0): fix this and submit again."
RESUBMIT_TAG = "resubmit-note"


def resubmit_text(reason: str, assignment: str, notebooks: Sequence[str], *,
                  earlier: bool) -> str:
    """What a learner whose latest submission could not be graded reads: why, that it got no
    grade, and how to submit again (`earlier`: their earlier graded submission still counts)."""
    names = ", ".join(f"`{nb}.ipynb`" for nb in notebooks)
    kept = ("Your earlier submission, graded below, still counts until a new one is graded."
            if earlier else "No grade was given for it (not even 0).")
    what, name = (("its notebooks", "these names") if len(notebooks) > 1
                  else ("the notebook", "this name"))
    how = (f"To resubmit: submit {assignment} again with {what} {names}, under exactly {name} "
           "(as you received it, renamed back if your computer added a number), saved from "
           "Jupyter; it is graded in the next grading run.")
    return (f"**Your latest submission of {assignment} could not be graded:** "
            f"{_markdown_text(reason)}.\n\n{kept}\n\n{how}")


def resubmit_cell(reason: str, assignment: str, notebooks: Sequence[str], *,
                  earlier: bool) -> nbformat.NotebookNode:
    """The note above as a Markdown cell (no nbgrader metadata: scores are unaffected)."""
    cell: nbformat.NotebookNode = new_markdown_cell(
        resubmit_text(reason, assignment, notebooks, earlier=earlier),
        metadata={"tags": [RESUBMIT_TAG]})
    return cell


def note_page(cell: nbformat.NotebookNode) -> str:
    """A feedback page holding only `cell`, for a learner with no graded notebook to show
    (nbgrader's feedback needs a graded submission): nbconvert's HTML, like nbgrader's."""
    from nbconvert import HTMLExporter

    body, _ = HTMLExporter().from_notebook_node(new_notebook(cells=[cell]))
    return str(body)


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


def hide_test_code(nb: nbformat.NotebookNode, mark: str = HIDDEN_MARK) -> None:
    """Keep a hidden test's code out of what its cell shows, whatever the cell raised.

    nbgrader's ClearHiddenTests removes the hidden lines from the source in the feedback, not
    from the outputs: a traceback shows the lines around the one that raised, and code the
    learner wrote can print what it finds while a hidden test runs. In a cell with hidden tests,
    an error keeps its name, message and the frames of the learner's own cells; printed output and
    text is replaced by a note (stderr stays stderr, which nbgrader scores as a failure); pictures
    stay.
    """
    learner_counts = {c.get("execution_count") for c in nb.cells if c.cell_type == "code"
                      and not c.metadata.get("nbgrader", {}).get("locked")
                      and not c.metadata.get("nbgrader", {}).get("grade")}
    learner_counts.discard(None)
    for cell in nb.cells:
        if cell.cell_type != "code" or mark not in cell.get("source", ""):
            continue
        kept = []
        for out in cell.get("outputs", []):
            kind = out.get("output_type")
            if kind == "error":
                out["traceback"] = _learner_frames(out, learner_counts)
            elif kind == "stream":
                out["text"] = "[what the notebook printed during a hidden test is not shown]\n"
            elif kind in ("display_data", "execute_result"):
                data = {k: v for k, v in out.get("data", {}).items() if k.startswith("image/")}
                if not data:
                    continue
                out["data"] = {**data, "text/plain": "<a picture>"}
            kept.append(out)
        cell.outputs = kept


def _learner_frames(out: Any, learner_counts: set[Any]) -> list[str]:
    frames = [str(f) for f in out.get("traceback", [])]
    plain = [_ANSI.sub("", f) for f in frames]
    if not any(_CELL_FRAME.match(f) or f.startswith("File ") for f in plain):
        return frames  # no code in it (the grading helpers' failures are one sentence)
    kept = [f for f, bare in zip(frames[:2], plain[:2], strict=True)
            if not _CELL_FRAME.match(bare) and not bare.startswith("File ")]
    for frame in frames[2:-1]:
        found = _CELL_FRAME.match(_ANSI.sub("", frame))
        if found and int(found.group(1)) in learner_counts:
            kept.append(frame)
    kept.append(NOT_SHOWN)
    kept.append(f"{out.get('ename', 'Error')}: {out.get('evalue', '')}")
    return kept


# What a reader's browser may render from learner content: bleach's defaults plus the formatting
# notebooks use. No script, no style, no event handler, no javascript: link.
_TAGS = {"a", "abbr", "acronym", "b", "blockquote", "br", "code", "details", "div", "em", "h1",
         "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "kbd", "li", "ol", "p", "pre", "span",
         "strong", "sub", "summary", "sup", "table", "tbody", "td", "th", "thead", "tr", "ul"}
_ATTRIBUTES = {"a": ["href", "title"], "abbr": ["title"], "acronym": ["title"],
               "img": ["src", "alt", "title", "width", "height"], "td": ["colspan", "rowspan"],
               "th": ["colspan", "rowspan"]}


@functools.lru_cache(maxsize=1)
def _sanitizer() -> Any:
    from nbconvert.preprocessors.sanitize import SanitizeHTML

    return SanitizeHTML(tags=sorted(_TAGS), attributes=_ATTRIBUTES, strip=True)


def sanitize_for_readers(nb: nbformat.NotebookNode) -> None:
    """Learner content made safe to render (feedback HTML, the formgrader): the learner's own
    Markdown and raw cells and every output lose scripts, event handlers and active MIME types
    (nbconvert's SanitizeHTML, with bleach). The instructor's locked cells are left alone."""
    sanitizer = _sanitizer()
    for cell in nb.cells:
        locked = cell.metadata.get("nbgrader", {}).get("locked", False)
        if cell.cell_type in ("markdown", "raw") and not locked:
            cell.source = sanitizer.sanitize_html_tags(cell.source)
        elif cell.cell_type == "code":
            cell.outputs = sanitizer.sanitize_code_outputs(cell.get("outputs", []))
