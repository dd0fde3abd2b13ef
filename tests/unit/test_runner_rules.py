"""The runner's rules for a cell's outputs and verdict (pure functions, no kernel)."""

from __future__ import annotations

from typing import Any

from nbformat import from_dict

from autograder.execution._runner import _reported, enforce_budget


def stream(text: str) -> Any:
    return from_dict({"output_type": "stream", "name": "stdout", "text": text})


def error(ename: str = "ValueError") -> Any:
    return from_dict({"output_type": "error", "ename": ename, "evalue": "bad",
                      "traceback": ["x" * 10_000] * 20})


def test_an_error_is_never_dropped_by_the_output_budget() -> None:
    kept = enforce_budget([stream("a" * 5000), error()], budget=1000)
    kinds = [o["output_type"] for o in kept]
    assert kinds == ["stream", "error", "stream"]  # cut text, the error, the truncation note
    assert len(kept[0]["text"]) == 1000 and "[output truncated" in kept[2]["text"]
    assert len(kept[1]["traceback"]) == 8 and all(len(t) <= 4096 for t in kept[1]["traceback"])


def test_the_reply_decides_a_cells_verdict() -> None:
    cell = from_dict({"cell_type": "code", "source": "1/0", "outputs": [], "metadata": {}})
    assert _reported(cell, {"status": "ok"}, timed_out=False) == "ok"
    assert _reported(cell, None, timed_out=False) == "error"
    assert _reported(cell, {"status": "ok"}, timed_out=True) == "timeout"


def test_an_error_the_learner_hid_from_the_outputs_is_restored() -> None:
    cell = from_dict({"cell_type": "code", "source": "1/0", "outputs": [], "metadata": {}})
    reply = {"status": "error", "ename": "ZeroDivisionError", "evalue": "division by zero",
             "traceback": []}
    assert _reported(cell, reply, timed_out=False) == "error"
    (out,) = cell.outputs
    assert (out.ename, out.evalue) == ("ZeroDivisionError", "division by zero")
    shown = from_dict({"cell_type": "code", "source": "", "metadata": {}, "outputs": [error()]})
    _reported(shown, reply, timed_out=False)
    assert len(shown.outputs) == 1  # an error already shown is not repeated
