"""The pass signal: a test cell scores only when it ran to its end, whatever the learner's code did.

Each notebook below has a failing test cell after a learner cell that tries to silence or fake its
failure in one way, and a passing test cell after that. Run in the real sandbox (the grader's
path, cold and warm), the failing cell must fail every time; where the guard sees the trick, the
later cell fails too and the reason names what changed. Honest notebooks stay untouched (no false
alarm).
"""

from __future__ import annotations

import dataclasses
from concurrent.futures import ThreadPoolExecutor

import pytest
from nbformat.v4 import new_code_cell, new_notebook

from autograder.execution import Execution, Limits, SandboxBackend, WarmSandboxBackend
from tests.support.paths import REPO, warm_unavailable

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("integrity")]

LIMITS = dataclasses.replace(Limits(), cell_timeout=30.0, total_timeout=90.0)
PROVIDED = "import asyncio\nfrom asyncourse import expect_equal, grade"
FAILING = "answer()\nraise AssertionError('the answer is wrong')"
# A cell with top-level await takes ipykernel's other path (it transforms the cell itself).
FAILING_ASYNC = "await asyncio.sleep(0)\n" + FAILING
ASYNC = {"self-removing-transformer"}
PASSING = "expect_equal(1, 1)"

# name -> (the learner's cell, words the reason must contain, or None if only the reply catches it)
TRICKS: dict[str, tuple[str, str | None]] = {
    "custom-exception-handler": (
        "get_ipython().set_custom_exc((BaseException,), lambda *a, **k: None)",
        "custom_exceptions"),
    "silent-showtraceback": (
        "ip = get_ipython()\nip.showtraceback = lambda *a, **k: None\n"
        "ip._showtraceback = lambda *a, **k: None", "showtraceback"),
    "post-run-cell-clears-the-error": (
        "def clear(result):\n    result.error_in_exec = None\n"
        "get_ipython().events.callbacks['post_run_cell'].insert(0, clear)", "post_run_cell"),
    "reply-rewritten-by-session-send": (
        "kernel = get_ipython().kernel\nreal_send = kernel.session.send\n"
        "def send(stream, msg, content=None, *a, **kw):\n"
        "    if isinstance(content, dict) and content.get('status') == 'error':\n"
        "        content['status'] = 'ok'\n"
        "    return real_send(stream, msg, content, *a, **kw)\n"
        "kernel.session.send = send", "session"),
    "patched-do-execute": (
        "kernel = get_ipython().kernel\nreal = kernel.do_execute\n"
        "async def do_execute(*a, **kw):\n    reply = await real(*a, **kw)\n"
        "    reply['status'] = 'ok'\n    return reply\nkernel.do_execute = do_execute",
        "do_execute"),
    "input-transformer-skips-tests": (
        "def skip(lines):\n    return ['pass\\n'] if any('raise' in x for x in lines) else lines\n"
        "get_ipython().input_transformers_post.append(skip)", "input_transformers_post"),
    "ast-transformer-drops-raise": (
        "import ast\nclass Drop(ast.NodeTransformer):\n"
        "    def visit_Raise(self, node):\n        return ast.Pass()\n"
        "get_ipython().ast_transformers.append(Drop())", "ast_transformers"),
    "self-removing-transformer": (
        "def once(lines):\n    get_ipython().input_transformers_post.remove(once)\n"
        "    return ['await asyncio.sleep(0)\\n']\n"
        "get_ipython().input_transformers_post.append(once)", "rewritten"),
    "settrace-skips-lines": (
        "import sys\ndef tracer(frame, event, arg):\n    return None\nsys.settrace(tracer)",
        "sys.settrace"),
    "excepthook": ("import sys\nsys.excepthook = lambda *a: None", None),  # IPython undoes it
    "patched-sorted": ("import builtins\nbuiltins.sorted = lambda x, **k: list(x)",
                       "builtins.sorted"),
    "patched-helper": ("import asyncourse\nasyncourse.expect_equal = lambda *a, **k: None",
                       "asyncourse.expect_equal"),
    "rebound-test-name": ("def expect_equal(*a, **k):\n    pass", "rebound `expect_equal`"),
    "flood-before-the-error": ("def answer():\n    print('x' * 3_000_000)", None),
    "gc-reaches-the-guard": ("import gc\nhooks = gc.get_objects()", "gc.get_objects"),
    "thread-keeps-patching": (
        "import threading, time, builtins\nreal_len = builtins.len\n"
        "def flip():\n    while True:\n        time.sleep(0.001)\n"
        "threading.Thread(target=flip, daemon=True).start()", "thread"),
    # never run: the runner ends the kernel without exiting it
    "atexit": ("import atexit\natexit.register(print, 'passed')", None),
}
HONEST = "async def work(d):\n    await asyncio.sleep(d)\n    return d\nrun = grade(work, 1.0)"


def notebook(learner: str, failing: str = FAILING) -> object:
    cells = [new_code_cell(PROVIDED), new_code_cell("def answer():\n    return None"),
             new_code_cell(learner), new_code_cell(failing), new_code_cell(PASSING)]
    for index in (0, 3, 4):
        graded = index != 0
        cells[index].metadata["nbgrader"] = {
            "locked": True, "grade": graded, "solution": False, "grade_id": f"cell{index}",
            "points": 1 if graded else 0}
    return new_notebook(cells=cells)


@pytest.fixture(scope="module", params=[
    "cold", pytest.param("warm", marks=pytest.mark.skipif(bool(warm_unavailable()),
                                                          reason=warm_unavailable() or ""))])
def runs(request: pytest.FixtureRequest) -> dict[str, Execution]:
    kind = WarmSandboxBackend if request.param == "warm" else SandboxBackend
    box = kind(prestart=False, hidden=[REPO])
    todo = {name: learner for name, (learner, _) in TRICKS.items()}
    todo["honest"] = HONEST
    with ThreadPoolExecutor(4) as pool:
        futures = {name: pool.submit(box.run, notebook(
            src, FAILING_ASYNC if name in ASYNC else FAILING), {}, {}, LIMITS)
                   for name, src in todo.items()}
    box.close()
    return {name: future.result() for name, future in futures.items()}


def test_an_honest_notebook_passes_untouched(runs: dict[str, Execution]) -> None:
    honest = runs["honest"]
    assert (honest.outcome, honest.integrity) == ("completed", None)
    assert [honest.status(i) for i in range(5)] == ["ok", "ok", "ok", "error", "ok"]


@pytest.mark.parametrize("name", sorted(TRICKS))
def test_a_failing_test_cell_fails_whatever_the_learner_did(
        name: str, runs: dict[str, Execution]) -> None:
    run = runs[name]
    assert run.outcome == "completed", run
    assert run.status(3) == "error", f"{name}: the failing test counted as passed"
    errors = [o for o in run.notebook.cells[3].outputs if o.get("output_type") == "error"]
    assert errors, f"{name}: the failing test cell shows no error (nbgrader would score it)"
    words = TRICKS[name][1]
    if words is None:
        assert run.status(4) == "ok" and run.integrity is None
        return
    assert run.integrity is not None and words in run.integrity, run.integrity
    assert run.status(4) == "error", f"{name}: a test after the trick still counted"
    shown = " ".join(o.get("evalue", "") for o in run.notebook.cells[4].outputs)
    assert "this test did not count" in shown and words in shown


def test_a_hidden_tests_code_never_reaches_the_feedback_whatever_it_raised() -> None:
    """An exception raised outside the grading helpers, on a hidden line (the learner's code used
    up the process limit, say): what the feedback keeps is its name, message and the learner's
    own frames."""
    from autograder.grading.feedback import hide_test_code

    learner = new_code_cell("def answer():\n    raise RuntimeError(\"can't start new thread\")")
    test = new_code_cell("expect_equal(1, 1)\n### BEGIN HIDDEN TESTS\nsecret_input = 42\n"
                         "answer()\n### END HIDDEN TESTS")
    test.metadata["nbgrader"] = {"locked": True, "grade": True, "solution": False,
                                 "grade_id": "hidden", "points": 1}
    nb = notebook("pass")
    nb.cells[1] = learner
    nb.cells.insert(3, test)
    run = SandboxBackend(prestart=False, hidden=[REPO]).run(nb, {}, {}, LIMITS)
    raw = " ".join(str(o) for o in run.notebook.cells[3].outputs)
    assert "secret_input" in raw  # IPython's traceback shows the hidden lines around the error
    hide_test_code(run.notebook)
    (error,) = [o for o in run.notebook.cells[3].outputs if o.output_type == "error"]
    shown = "\n".join(error.traceback)
    assert "secret_input" not in shown and "BEGIN HIDDEN" not in shown
    assert "can't start new thread" in shown and "answer()" in shown.split("not shown")[0]
