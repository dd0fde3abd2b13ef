"""Hostile and broken submissions: graded or refused with a reason, never a crash, never fooled.

Fast part (no kernel): the static scan (autograder/scan.py) flags tampering and nothing in the
reference answers, the proof bank or the released notebooks; the grading helpers refuse the
classic cheats in-process. Slow part: the whole corpus of ``tests/hostile/`` plus a
few honest learners is graded by ``python -m autograder grade`` in a temp course (sandboxed, the
way instructors run it), once with and once without the corpus; every case must get its expected
score, status and reason, the honest learners their grades of the run without the corpus, the
gradebook must stay intact, and the course's source/, release/ and the honest learners'
submissions must be byte-for-byte unchanged.
"""

from __future__ import annotations

import asyncio
import csv
import hashlib
import json
import sqlite3
import subprocess
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import nbformat
import pytest

from autograder import scan
from autograder.grading.records import GradeRecord, GradingState
from tests.support import fakeclass, hostile
from tests.support.course import Course
from tests.support.paths import BANK, REPO, tool_env

HONEST = [fakeclass.Learner("honest-reference", "reference"),
          fakeclass.Learner("honest-mixed", "mixed"),
          fakeclass.Learner("honest-blank", "blank")]
CELL_TIMEOUT = 10  # seconds; the corpus's endless cells cost this much each

SNIPPETS = {
    "import asyncio\nasync def f(d, r=None):\n    return r\nasyncio.sleep = f":
        "assigns asyncio.sleep",
    "import asyncio as aio\nsetattr(aio, 'sleep', print)": "assigns asyncio.sleep (setattr)",
    "from asyncio import tasks\ntasks.sleep = 1": "assigns asyncio.tasks.sleep",
    "__import__('asyncio').gather = 2": "assigns asyncio.gather",
    "import asyncio\nvars(asyncio)['gather'] = 3": "assigns asyncio.gather",
    "import asyncourse\nasyncourse.expect_equal = print": "assigns asyncourse.expect_equal",
    "from asyncourse.clock import VirtualEventLoop as V\nV.time = abs":
        "assigns asyncourse.clock.VirtualEventLoop.time",
    "import builtins\nbuiltins.len = abs": "assigns builtins.len",
    "__builtins__['print'] = None": "assigns __builtins__.print",
    "import sys\nsys.modules['asyncourse'] = sys": "assigns sys.modules.asyncourse",
    "import warnings\nwarnings.filterwarnings('ignore')": "warnings.filterwarnings",
    "from warnings import simplefilter as s\ns('ignore')": "warnings.simplefilter",
    "import warnings\nwarnings.resetwarnings()": "warnings.resetwarnings",
    "import warnings\nwarnings.showwarning = print": "assigns warnings.showwarning",
    "ip = get_ipython()\nip.events.register('pre_run_cell', print)": "get_ipython()...register",
    "import sys\nsys.excepthook = print": "assigns sys.excepthook",
    "import sys\nsys.displayhook = print": "assigns sys.displayhook",
    "from IPython.core.interactiveshell import InteractiveShell\n"
    "InteractiveShell.ast_node_interactivity = 'all'":
        "assigns IPython.core.interactiveshell.InteractiveShell.ast_node_interactivity",
    "from os import _exit\n_exit(1)": "calls os._exit",
    "import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)": "signal.signal",
    "import ctypes": "imports ctypes",
    "import subprocess\nsubprocess.run(['ls'])": "subprocess",
    "import os\nos.system('ls')": "os.system",
    "!ls ..": "runs a shell command",
    "%%bash\nls": "runs the IPython magic %bash",
    "%timeit import os; os._exit(1)": "calls os._exit",
    "print(open('../source/ps2/ps2.ipynb').read())": "names the path '../source/ps2/ps2.ipynb'",
    "open('/work/main/gradebook.db', 'wb')": "names the path '/work/main/gradebook.db'",
    "async def fetch(d):\n    return d * 10": "redefines `fetch`",
    "import types\nasyncio = types.SimpleNamespace()": "redefines `asyncio`",
    "def f():\n    global fetch\n    fetch = None": "rebinds `fetch` (global)",
    "exit()": "calls exit()",
}


def _source_nb(assignment: str = "ps2") -> nbformat.NotebookNode:
    return nbformat.read(REPO / "source" / assignment / f"{assignment}.ipynb", as_version=4)


@pytest.mark.parametrize("code", list(SNIPPETS))
def test_scan_flags_tampering(code: str) -> None:
    provided = scan.provided_names(_source_nb())
    flags = [str(f) for f in scan.scan_source(code, 7, provided, {})]
    assert any(SNIPPETS[code] in f for f in flags), flags
    assert all(f.startswith("cell 7 ") for f in flags)


def test_scan_leaves_honest_code_and_instructor_cells_alone() -> None:
    checked = 0
    for folder in sorted((REPO / "source").iterdir()):
        source = _source_nb(folder.name)
        provided = scan.provided_names(source)
        for kind in ("source", "release"):
            nb = nbformat.read(REPO / kind / folder.name / f"{folder.name}.ipynb", as_version=4)
            assert scan.scan_notebook(nb, source) == [], (kind, folder.name)
        for entry in sorted((BANK / folder.name).rglob("*.py")):
            assert scan.scan_source(entry.read_text(), 1, provided, {}) == [], entry
            checked += 1
    assert checked >= 50
    # a test cell is skipped only while it is exactly the instructor's
    source = _source_nb()
    nb = nbformat.from_dict(source)
    test = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade"))
    assert scan.scan_notebook(nb, source) == []
    test.source += "\nimport asyncio\nasyncio.sleep = None"
    assert [f.what for f in scan.scan_notebook(nb, source)] == ["assigns asyncio.sleep"]
    assert scan.review_note(scan.scan_notebook(nb, source)) == (
        f"marked for review: cell {nb.cells.index(test) + 1} assigns asyncio.sleep")


# ----------------------------------------------------------------- the helpers, not fooled

async def _fetch(d: float) -> float:
    await asyncio.sleep(d)
    return d * 10


async def _sequential(delays: list[float]) -> list[float]:
    return [await _fetch(d) for d in delays]


def test_a_fake_asyncio_sleep_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    from asyncourse import GradingFailure, grade

    real = asyncio.sleep

    async def fake(delay: float, result: Any = None) -> Any:
        return await real(max(0.0, delay - asyncio.get_running_loop().time()), result)

    monkeypatch.setattr(asyncio, "sleep", fake)
    with pytest.raises(GradingFailure, match=r"`asyncio\.sleep` was replaced"):
        grade(_sequential, [0.5, 0.25, 0.75])


def test_a_fake_asyncio_module_in_the_notebook_is_refused() -> None:
    from asyncourse import GradingFailure, grade

    namespace: dict[str, Any] = {"asyncio": type(asyncio)("asyncio")}
    exec("async def fetch_all(delays):\n    return []", namespace)  # the notebook's globals
    with pytest.raises(GradingFailure, match="`asyncio` in the notebook is not the asyncio"):
        grade(namespace["fetch_all"], [1.0])


def test_silenced_warnings_do_not_hide_a_forgotten_await() -> None:
    from asyncourse import GradingFailure, grade

    async def fetch_all(delays: list[float]) -> list[float]:
        pending = [_fetch(d) for d in delays]  # noqa: F841  never awaited
        await asyncio.sleep(max(delays))
        return [d * 10 for d in delays]

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore")
        with pytest.raises(GradingFailure, match="was never awaited"):
            grade(fetch_all, [0.5, 0.25])


def test_a_list_whose_eq_is_always_true_is_refused() -> None:
    from asyncourse import GradingFailure, expect_equal

    class AlwaysEqual(list[float]):
        def __eq__(self, other: object) -> bool:
            return True

        __hash__ = None  # type: ignore[assignment]

    with pytest.raises(GradingFailure, match="must be a plain list, not a AlwaysEqual"):
        expect_equal(AlwaysEqual(), [5.0, 2.5])


def test_a_learners_warning_during_grading_reaches_no_stderr(
        capsys: pytest.CaptureFixture[str]) -> None:
    from asyncourse import grade

    async def noisy(delays: list[float]) -> int:
        warnings.warn(f"fetching {len(delays)} items", stacklevel=1)
        return len(delays)

    assert grade(noisy, [1.0, 2.0]).result == 2  # nbgrader fails a test cell that wrote stderr
    assert capsys.readouterr().err == ""


# ----------------------------------------------------------------- the corpus, end to end

def _tree_hash(*paths: Path) -> dict[str, str]:
    out = {}
    for top in paths:
        for path in sorted(top.rglob("*")) if top.exists() else []:
            if path.is_file():
                out[str(path)] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


def _course(root: Path) -> Course:
    course = Course.create(root, ["ps2"])
    with open(course.root / "nbgrader_config.py", "a") as fh:
        fh.write(f"\nc.Execute.timeout = {CELL_TIMEOUT}  # tests: endless cells stop sooner\n")
    fakeclass.submit(course, HONEST, "ps2")
    secret = course.root / "root-only-secret.txt"  # what a link in a submission reaches for
    secret.write_text("the instructor's secret")
    secret.chmod(0o600)
    return course


def _grade(course: Course, *args: str) -> tuple[subprocess.CompletedProcess[str], float]:
    env = tool_env()
    env["PYTHONPATH"] = str(REPO)
    env["MPLBACKEND"] = "Agg"
    start = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "autograder", "grade", "ps2", "--quiet",
                           "--workers", "4", "--feedback", *args], cwd=course.root, env=env,
                          capture_output=True, text=True, timeout=900)
    return done, time.monotonic() - start


@pytest.fixture(scope="module")
def honest(tmp_path_factory: pytest.TempPathFactory) -> Course:
    """The honest learners alone, graded in the sandbox with their feedback."""
    alone = _course(tmp_path_factory.mktemp("honest") / "course")
    alone_run, _ = _grade(alone, "--no-canary")  # the corpus's run has the canary
    assert alone_run.returncode == 0, alone_run.stdout + alone_run.stderr
    return alone


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory, honest: Course) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("hostile")
    alone = honest
    course = _course(root / "corpus")
    cases = hostile.cases()
    for case in cases:
        hostile.submit(course, case)
    guarded = [course.root / "source", course.root / "release",
               *(course.root / "submitted" / h.student for h in HONEST)]
    before = _tree_hash(*guarded)
    done, seconds = _grade(course)
    print(f"\nhostile corpus: {len(cases)} cases + {len(HONEST)} honest graded in {seconds:.0f} s")
    csv_before = (course.root / "grades-ps2.csv").read_bytes()
    again, _ = _grade(course)  # a re-run grades nothing twice and crashes on nothing
    return {"course": course, "alone": alone, "done": done, "cases": cases, "seconds": seconds,
            "before": before, "after": _tree_hash(*guarded), "again": again,
            "csv_before": csv_before}




def _rows(course: Course) -> dict[str, dict[str, str]]:
    return {r["student_id"]: r for r in csv.DictReader((course.root / "grades-ps2.csv").open())}


def _records(course: Course) -> dict[str, GradeRecord]:
    return GradingState(course.root / ".grading" / "ps2.jsonl").records


@pytest.mark.slow
@pytest.mark.xdist_group("hostile")
def test_no_crash_and_every_learner_has_a_row(corpus: dict[str, Any]) -> None:
    done = corpus["done"]
    assert done.returncode == 0, done.stdout + done.stderr
    rows = _rows(corpus["course"])
    assert len(corpus["cases"]) >= 25
    assert set(rows) == {c.name for c in corpus["cases"]} | {h.student for h in HONEST}
    assert "Marked for review" in done.stdout and "Traceback" not in done.stderr
    course = corpus["course"]
    missing = [s for s in rows if not (course.root / "feedback" / s / "ps2" / "ps2.html").exists()]
    assert not missing, f"no feedback for {missing}"
    assert all("score" in want for c in corpus["cases"]
               for want in c.expect.get("one_of", [c.expect])), "every case states its score"


@pytest.mark.slow
@pytest.mark.xdist_group("hostile")
def test_a_rerun_grades_nothing_twice(corpus: dict[str, Any]) -> None:
    again = corpus["again"]
    assert again.returncode == 0, again.stdout + again.stderr
    assert f"{len(_rows(corpus['course']))} submissions: 0 graded now" in again.stdout
    assert "Traceback" not in again.stderr


@pytest.mark.slow
@pytest.mark.xdist_group("hostile")
def test_no_learner_text_reaches_a_terminal_or_a_spreadsheet_raw(corpus: dict[str, Any]) -> None:
    done, course = corpus["done"], corpus["course"]
    for name, text in [("the summary", done.stdout + done.stderr),
                       ("the CSV", (course.root / "grades-ps2.csv").read_text()),
                       ("the grading log", (course.root / ".grading" / "ps2.log").read_text())]:
        raw = sorted({repr(c) for c in text if not c.isprintable() and c not in "\n\t"})
        assert not raw, f"{name} carries control characters {raw}"
    for row in _rows(course).values():
        formulas = [v for v in row.values() if v and v[0] in "=+-@"]
        assert not formulas, f"{row['student_id']}: a spreadsheet would run {formulas}"
    copied = [p for folder in ("autograded", "feedback")
              for p in (course.root / folder / "links-to-the-course").glob("**/*")
              if p.name in ("notes.txt", "secret.txt", "gradebook.txt")]
    assert not copied, f"the linked files were copied: {copied}"


def _problems(course: Course, name: str, want: dict[str, Any], row: dict[str, str],
              records: dict[str, GradeRecord], results: dict[str, Any],
              max_score: float) -> list[str]:
    """What differs between one case's outcome and one expected outcome."""
    score = None if row["score"] == "" else float(row["score"])
    problems = []
    # A refused case states score 0 (written before issue 15): not gradable now means no
    # score at all (empty in the CSV, nothing in the gradebook), which earns as little.
    wanted = None if want.get("status") == "not gradable" else want.get("score")
    if "score" in want and score != wanted:
        problems.append(f"score {score} != {wanted}")
    if wanted is None and "score" in want and name in results:
        problems.append("a not-gradable submission has a score in the gradebook")
    if float(row["max_score"]) != max_score:
        problems.append(f"max_score {row['max_score']}")
    if "status" in want and row["status"] != want["status"]:
        problems.append(f"status {row['status']!r} != {want['status']!r}")
    problems += [f"reason lacks {w!r}" for w in want.get("reason", [])
                 if w not in row["reason"]]
    if want.get("reason") == [] and row["reason"]:
        problems.append("a reason where none was expected")
    for gid, score in want.get("questions", {}).items():
        if float(row[gid]) != score:
            problems.append(f"{gid} {row[gid]} != {score}")
    record = records.get(name)
    mistakes = " ".join(record.mistakes if record else ())
    problems += [f"mistakes lack {w!r}" for w in want.get("mistakes", []) if w not in mistakes]
    graded = course.root / "autograded" / name / "ps2" / "ps2.ipynb"
    outputs = [c.get("outputs", []) for c in nbformat.read(graded, as_version=4).cells
               ] if graded.exists() else []  # the outputs: the sources hold hidden tests
    text = json.dumps(outputs)
    feedback = course.root / "feedback" / name / "ps2" / "ps2.html"
    page = feedback.read_text() if feedback.exists() else ""
    text += page
    problems += [f"feedback shows {w!r}" for w in want.get("not_in_feedback", [])
                 if w.replace("$COURSE", str(course.root)) in text]
    # markup matters where a browser renders it: the page (in an error output it is text)
    problems += [f"feedback page has the markup {w!r}" for w in want.get("not_in_page", [])
                 if w in page]
    if "max_autograded_mb" in want and graded.stat().st_size > want["max_autograded_mb"] * 1e6:
        problems.append(f"autograded notebook is {graded.stat().st_size} bytes")
    return problems


@pytest.mark.slow
@pytest.mark.xdist_group("hostile")
def test_every_case_gets_its_outcome(corpus: dict[str, Any]) -> None:
    course = corpus["course"]
    rows, records, results = _rows(course), _records(course), course.results("ps2")
    max_score = results["honest-reference"].max_score
    wrong = []
    for case in corpus["cases"]:
        row = rows[case.name]
        score = None if row["score"] == "" else float(row["score"])
        got = {"score": score, "status": row["status"], "reason": row["reason"]}
        # "one_of": outcomes that are all right, where which one happens depends on timing
        found = [_problems(course, case.name, want, row, records, results, max_score)
                 for want in case.expect.get("one_of", [case.expect])]
        if all(found):
            wrong.append(f"{case.name}: {' | or | '.join('; '.join(p) for p in found)} "
                         f"(got {got})")
    assert not wrong, "\n".join(wrong)


@pytest.mark.slow
@pytest.mark.xdist_group("hostile")
def test_review_reaches_csv_summary_and_feedback(corpus: dict[str, Any]) -> None:
    course, done = corpus["course"], corpus["done"]
    row = _rows(course)["fake-sleep"]
    assert row["status"] == "review" and row["reason"].startswith("marked for review: cell ")
    assert "fake-sleep: marked for review: cell 14 assigns asyncio.sleep" in done.stdout
    html = (course.root / "feedback" / "fake-sleep" / "ps2" / "ps2.html").read_text()
    assert "marked for review: cell" in html and "assigns asyncio.sleep" in html
    assert html.index("marked for review") < html.index("Problem set 2")  # at the top


@pytest.mark.slow
@pytest.mark.xdist_group("hostile")
def test_honest_learners_and_the_course_are_untouched(corpus: dict[str, Any]) -> None:
    course, alone = corpus["course"], corpus["alone"]
    ours, theirs = course.results("ps2"), alone.results("ps2")
    honest = [h.student for h in HONEST]
    assert {s: ours[s] for s in honest} == {s: theirs[s] for s in honest}
    assert ours["honest-reference"].full_marks and ours["honest-blank"].score == 0
    rows = _rows(course)
    assert all(rows[s]["status"] == "graded" and rows[s]["reason"] == "" for s in honest)
    assert corpus["before"] == corpus["after"]  # source/, release/, honest submissions
    db = sqlite3.connect(course.root / "gradebook.db")
    try:
        assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        students = {r[0] for r in db.execute("SELECT id FROM student")}
    finally:
        db.close()
    assert students >= set(honest) | {c.name for c in corpus["cases"]}


@pytest.mark.slow
@pytest.mark.xdist_group("hostile")
def test_the_learners_own_timelines_reach_their_feedback(honest: Course) -> None:
    """Graded by the class command in the sandbox, the timeline cells of ps2 show their
    pictures in the feedback (not "<Figure size ... with 2 Axes>"): the kernel's inline
    backend puts each one in the outputs, and the feedback keeps them."""
    from bs4 import BeautifulSoup

    html = (honest.root / "feedback" / "honest-reference" / "ps2" / "ps2.html").read_text()
    cells = [c for c in BeautifulSoup(html, "html.parser").select("div.cell")
             if "code_cell" in c.get("class", [])]
    timelines = [c for c in cells if "compare_timelines(fetch_" in c.get_text()]
    assert len(timelines) == 2  # parts B and D
    for cell in timelines:
        images = cell.select('img[src^="data:image/png;base64,"]')
        assert len(images) == 1 and len(images[0]["src"]) > 10_000, cell.get_text()[:200]
        assert "<Figure size" not in cell.get_text()
