"""What the learner reads: the grading note, and a hidden test's code never shown."""

from __future__ import annotations

import json

import nbformat
from nbformat.v4 import new_code_cell, new_notebook, new_output

from autograder.grading.feedback import (
    annotate,
    hide_test_code,
    note_text,
    resubmit_cell,
    resubmit_text,
)

# A traceback as IPython 9 writes it: a hidden test (cell In[2]) calls the learner's code (In[1]).
RED, GREEN, CYAN, OFF = "\x1b[31m", "\x1b[32m", "\x1b[36m", "\x1b[39m"
TRACEBACK = [
    f"{RED}{'-' * 75}{OFF}",
    f"{RED}RuntimeError{OFF}                              Traceback (most recent call last)",
    f"{CYAN}Cell{OFF} {GREEN}In[2], line 4{OFF}\n{GREEN}      3{OFF} secret = 42\n"
    f"{GREEN}----> 4{OFF} learner()\n",
    f"{CYAN}Cell{OFF} {GREEN}In[1], line 2{OFF}, in {CYAN}learner{OFF}()\n"
    f"{GREEN}----> 2{OFF}     return helper()\n",
    f"{RED}RuntimeError{OFF}: can't start new thread",
]
HIDDEN_TEST = "x = 1\n### BEGIN HIDDEN TESTS\nsecret = 42\nlearner()\n### END HIDDEN TESTS"


def graded_notebook() -> nbformat.NotebookNode:
    learner = new_code_cell("def learner():\n    return helper()", execution_count=1)
    test = new_code_cell(HIDDEN_TEST, execution_count=2, outputs=[
        new_output("stream", name="stdout", text="secret = 42  (read by the learner's code)\n"),
        new_output("stream", name="stderr", text="secret = 42\n"),
        new_output("display_data", data={"image/png": "iVBORw0KGgo=", "text/plain": "secret"}),
        new_output("display_data", data={"text/html": "<b>secret = 42</b>"}),
        new_output("error", ename="RuntimeError", evalue="can't start new thread",
                   traceback=TRACEBACK)])
    test.metadata["nbgrader"] = {"grade": True, "locked": True, "grade_id": "t", "points": 1}
    return new_notebook(cells=[learner, test])


def test_a_hidden_tests_code_never_reaches_the_outputs() -> None:
    nb = graded_notebook()
    hide_test_code(nb)
    outputs = nb.cells[1].outputs
    assert "secret" not in json.dumps(outputs)
    error = outputs[-1]
    assert (error.ename, error.evalue) == ("RuntimeError", "can't start new thread")
    shown = "\n".join(error.traceback)
    assert "In[1]" in shown and "helper()" in shown  # the learner's own frame stays
    assert "In[2]" not in shown and "not shown" in shown
    assert shown.endswith("RuntimeError: can't start new thread")
    kinds = [(o.output_type, o.get("name")) for o in outputs]
    assert kinds == [("stream", "stdout"), ("stream", "stderr"), ("display_data", None),
                     ("error", None)]  # stderr stays stderr: nbgrader scores it a failure
    assert outputs[2].data["image/png"] == "iVBORw0KGgo="


def test_a_one_sentence_failure_is_left_as_it_is() -> None:
    nb = graded_notebook()
    nb.cells[1].outputs = [new_output("error", ename="GradingFailure", evalue="ran one after "
                                      "another", traceback=["ran one after another"])]
    hide_test_code(nb)
    assert nb.cells[1].outputs[0].traceback == ["ran one after another"]


def test_cells_without_hidden_tests_are_untouched() -> None:
    nb = graded_notebook()
    nb.cells[1].source = "learner()"
    before = json.dumps(nb.cells[1].outputs)
    hide_test_code(nb)
    assert json.dumps(nb.cells[1].outputs) == before


def test_the_note_says_why_and_what_to_do() -> None:
    text = note_text("not-gradable", "no notebook named ps1.ipynb", [], [])
    assert text.startswith("**This submission could not be graded:** no notebook named ps1")
    assert "No grade was given for it (not even 0): fix this and submit again." in text
    assert "0 points" not in text
    died = note_text("kernel-died", "the kernel died in cell 6", [], [])
    assert "It was graded 0 points. Fix this and submit again." in died
    graded = note_text("graded", "", ["the test cell `t` was restored"], ["ran in sequence"])
    assert "- Note: the test cell `t` was restored." in graded and "- ran in sequence" in graded
    nb = graded_notebook()
    annotate(nb, "graded", "", [], ["ran in sequence"])
    assert nb.cells[0].cell_type == "markdown" and "grading-note" in nb.cells[0].metadata.tags


def test_a_learner_not_graded_is_told_how_to_resubmit_and_what_still_counts() -> None:
    alone = resubmit_text("no notebook named ps1.ipynb (found: ps1 (1).ipynb)", "ps1", ["ps1"],
                          earlier=False)
    assert alone.startswith("**Your latest submission of ps1 could not be graded:** no notebook "
                            "named ps1.ipynb (found: ps1 (1).ipynb).")
    assert "No grade was given for it (not even 0)." in alone
    assert "submit ps1 again with the notebook `ps1.ipynb`, under exactly this name" in alone
    kept = resubmit_text("<b>x</b> [y](z)", "pair", ["part1", "part2"], earlier=True)
    assert "Your earlier submission, graded below, still counts" in kept
    assert "its notebooks `part1.ipynb`, `part2.ipynb`, under exactly these names" in kept
    assert "<b>" not in kept and "\\[y\\]" in kept  # learner text stays text
    cell = resubmit_cell("bad", "ps1", ["ps1"], earlier=False)
    assert cell.cell_type == "markdown" and cell.metadata.tags == ["resubmit-note"]
