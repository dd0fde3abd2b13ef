"""Hostile and broken submissions of ps2, each with the outcome the class command must give it.

Why. A grader is judged by what it does with the worst notebooks a class hands in: code that
deletes the gradebook, reads the hidden tests, kills its kernel, loops for ever, fakes
``asyncio.sleep`` or hides a forgotten ``await``, and files that are not notebooks at all. Each
case here builds one such submission from the released notebook and the reference answers, and
states what grading it must give: the score, the CSV status and words of the reason.
``tests/test_hostile.py`` grades the whole corpus with a few honest learners through
``python -m autograder grade`` and checks every expectation, plus that nothing else changed.

A case is ``tests/hostile/<name>.json`` (``name`` becomes the student id)::

    {
      "about": "what the submission does, in one line",
      "answers": "reference" | "blank",        # start: every solution cell answered, or the stubs
      "replace": {"fetch_all": "code"},        # solution cells ("$REFERENCE" = the reference)
      "insert": [{"after": "fetch_all", "source": "code", "nbgrader": {...}, "outputs": [...]}],
      "delete": ["test_fetch_all_concurrent"], # cells removed, by grade_id
      "metadata": {"test_pipeline": {"points": 100}},   # merged into a cell's nbgrader metadata
      "cell_type": {"test_pipeline": "markdown"},
      "outputs": {"test_pipeline": [...]},     # outputs stored in the submitted notebook
      "file": "invalid-json" | "nbformat3" | "renamed",  # how the notebook file is written
      "extra_files": {"asyncourse.py": "text"},# more files in the submission folder
      "links": {"notes.txt": "$COURSE/source/ps2/ps2.ipynb"},  # symbolic links in it
      "raw_file_names": ["626164ff"],          # file names that are not UTF-8 (hex bytes)
      (an "insert" item may say "cell_type": "markdown")
      "caught": "prevented" | "review" | "refused",  # how the grader copes (documentation):
                # the cheat fails / it is only flagged for a human / it is refused with a reason
      "expect": {
        "score": 8,                 # total the gradebook must hold (max_score is unchanged)
        "questions": {"test_fetch_all_concurrent": 0},   # per graded cell, where it matters
        "status": "review",         # the CSV status column
        "reason": ["assigns asyncio.sleep"],   # words the CSV reason must contain
        "not_in_feedback": ["BEGIN HIDDEN TESTS"],  # text the graded outputs and page must lack
        "not_in_page": ["<script>"]  # markup the feedback page must lack (rendered there only)
      }                             # or "expect": {"one_of": [{...}, {...}]}: outcomes that are
                                    # all right, where timing decides which one happens
    }
"""

from __future__ import annotations

import base64
import copy
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat

from tests.support.course import Course, fill_in
from tests.support.fakeclass import reference
from tests.support.paths import HOSTILE_CASES

ASSIGNMENT = "ps2"
CASES = HOSTILE_CASES


@dataclass(frozen=True)
class Case:
    """One hostile submission: its recipe and the outcome it must get."""

    name: str
    recipe: dict[str, Any] = field(repr=False)

    @property
    def expect(self) -> dict[str, Any]:
        return dict(self.recipe.get("expect", {}))

    def __repr__(self) -> str:
        return f"Case({self.name!r}: {self.recipe.get('about', '')})"


def cases() -> list[Case]:
    """Every case of the corpus, by name."""
    return [Case(p.stem, json.loads(p.read_text())) for p in sorted(CASES.glob("*.json"))]


def _grade_id(cell: nbformat.NotebookNode) -> str | None:
    gid = cell.metadata.get("nbgrader", {}).get("grade_id")
    return str(gid) if gid else None


def _index(nb: nbformat.NotebookNode, grade_id: str) -> int:
    for i, cell in enumerate(nb.cells):
        if _grade_id(cell) == grade_id:
            return i
    raise KeyError(f"no cell {grade_id!r} in the notebook")


def notebook(course: Course, case: Case) -> nbformat.NotebookNode:
    """The submitted notebook of `case`, built from the course's release and reference."""
    recipe = case.recipe
    refs = reference(course, ASSIGNMENT)
    release = course.release_notebook(ASSIGNMENT)
    answers = dict(refs) if recipe.get("answers", "reference") == "reference" else {}
    for gid, code in recipe.get("replace", {}).items():
        answers[gid] = code.replace("$REFERENCE", refs[gid])
    nb = fill_in(release, answers)
    for item in recipe.get("insert", []):
        cell = (nbformat.v4.new_markdown_cell(item["source"]) if item.get("cell_type") ==
                "markdown" else nbformat.v4.new_code_cell(item["source"]))
        if "nbgrader" in item:
            cell.metadata["nbgrader"] = dict(item["nbgrader"])
        if cell.cell_type == "code":
            cell.outputs = [nbformat.from_dict(o) for o in item.get("outputs", [])]
        nb.cells.insert(_index(nb, item["after"]) + 1, cell)
    for gid, meta in recipe.get("metadata", {}).items():
        nb.cells[_index(nb, gid)].metadata["nbgrader"].update(meta)
    for gid, kind in recipe.get("cell_type", {}).items():
        old = nb.cells[_index(nb, gid)]
        new = (nbformat.v4.new_markdown_cell(old.source) if kind == "markdown"
               else nbformat.v4.new_raw_cell(old.source))
        new.metadata = copy.deepcopy(old.metadata)
        nb.cells[_index(nb, gid)] = new
    for gid, outputs in recipe.get("outputs", {}).items():
        nb.cells[_index(nb, gid)].outputs = [nbformat.from_dict(o) for o in outputs]
    big = recipe.get("embedded_image_mb")
    if big:  # a huge image saved in the submitted notebook's outputs
        png = base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\0" * int(big * 750_000)).decode()
        nb.cells[_index(nb, "fetch_all")].outputs = []
        cell = nbformat.v4.new_code_cell("from IPython.display import Image\nImage(b'')")
        cell.outputs = [nbformat.v4.new_output("display_data", data={"image/png": png})]
        nb.cells.insert(_index(nb, "fetch_all") + 1, cell)
    for gid in recipe.get("delete", []):
        del nb.cells[_index(nb, gid)]
    return nb


def submit(course: Course, case: Case) -> Path:
    """Write `case` into ``submitted/<case.name>/ps2/`` as ``nbgrader collect`` would."""
    nb = notebook(course, case)
    kind = case.recipe.get("file")
    name = f"{ASSIGNMENT} (1)" if kind == "renamed" else ASSIGNMENT
    try:
        path = course.submit(case.name, ASSIGNMENT, nb, name=name)
    except UnicodeEncodeError:  # a lone surrogate: on disk it is a JSON escape, "\ud800"
        path = course.root / "submitted" / case.name / ASSIGNMENT / f"{name}.ipynb"
        path.write_text(json.dumps(nb, ensure_ascii=True))
    if kind == "invalid-json":
        path.write_text(path.read_text()[: len(path.read_text()) // 2])
    elif kind == "nbformat3":
        nbformat.write(nbformat.convert(nb, 3), path, version=3)
    for rel, text in case.recipe.get("extra_files", {}).items():
        target = path.parent / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
    for rel, target_name in case.recipe.get("links", {}).items():  # "$COURSE/..." or relative
        target = target_name.replace("$COURSE", str(course.root))
        os.symlink(target, path.parent / rel)
    for raw in case.recipe.get("raw_file_names", []):  # names that are not UTF-8 (hex bytes)
        (path.parent / os.fsdecode(bytes.fromhex(raw))).write_text("x")
    (path.parent / "timestamp.txt").write_text("2026-11-20 12:00:00.000000 UTC")
    return path
