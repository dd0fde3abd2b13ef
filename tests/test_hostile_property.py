"""Generated hostile submissions through collect and record: the run finishes, every learner has a
record, the honest learner is graded, and what the grader writes is safe to read.

Hypothesis builds notebooks whose sources and outputs carry lone surrogates, control characters,
HTML and nbgrader's own markers, file names that are not UTF-8, and LMS zips with such members.
Each example goes through the host side of the class command as it runs it (collect, nbgrader's
prepare, the job's result, record, the CSV and the summary) with the executed notebook standing in
for a kernel's run: the kernel side is the sandbox's business (tests/test_sandbox.py); here the
question is whether learner data can crash the grader or slip past it into a file or a terminal.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import zipfile
from pathlib import Path
from typing import Any

import nbformat
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from tqdm import tqdm

from autograder.execution import CellRun
from autograder.grading import export, pipeline
from autograder.grading.collect import collect
from autograder.grading.gradebook import ClassGradebook
from autograder.grading.records import GradingState
from autograder.grading.worker import JobResult
from tests.support.course import Course, fill_in
from tests.support.fakeclass import reference

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("hostile-property"),
              pytest.mark.filterwarnings("ignore::sqlalchemy.exc.SAWarning")]
# Each example grades a small class through nbgrader: a few in CI, more with
# ASYNCOURSE_HYPOTHESIS_EXAMPLES=200; shrinking a failure only when asked (it takes minutes).
PHASES = ([Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink]
          if os.environ.get("ASYNCOURSE_HYPOTHESIS_SHRINK") else
          [Phase.explicit, Phase.generate])

NAME = st.binary(min_size=1, max_size=6).filter(lambda b: not {47, 0} & set(b))  # no "/" or NUL
NASTY = st.sampled_from(["\ud800", "\udcff", "\x1b[2J", "\x1b]52;c;cHduZWQ=\x07", "\x00", "\u202e",
                         "<script>alert(1)</script>", "<img src=x onerror=alert(1)>",
                         "### BEGIN HIDDEN TESTS", "### END SOLUTION", "=HYPERLINK(\"x\")", "é"])
TEXT = st.lists(st.one_of(NASTY, st.text(max_size=20)), max_size=6).map("".join)


def outputs() -> st.SearchStrategy[list[dict[str, Any]]]:
    stream = st.builds(lambda t, n: {"output_type": "stream", "name": n, "text": t}, TEXT,
                       st.sampled_from(["stdout", "stderr"]))
    display = st.builds(lambda t, h: {"output_type": "display_data", "metadata": {"x": t},
                                      "data": {"text/plain": t, "text/html": h}}, TEXT, TEXT)
    error = st.builds(lambda n, v, t: {"output_type": "error", "ename": n, "evalue": v,
                                       "traceback": [t]}, TEXT, TEXT, TEXT)
    return st.lists(st.one_of(stream, display, error), max_size=3)


@pytest.fixture(scope="module")
def course(tmp_path_factory: pytest.TempPathFactory) -> Course:
    return Course.create(tmp_path_factory.mktemp("property") / "course", ["ps1"])


def learner_notebook(course: Course, markdown: str, code: str) -> nbformat.NotebookNode:
    nb = fill_in(course.release_notebook("ps1"), reference(course, "ps1"))
    nb.cells.insert(1, nbformat.v4.new_markdown_cell(markdown))
    nb.cells.insert(2, nbformat.v4.new_code_cell(code))
    return nb


def write_raw(path: Path, nb: nbformat.NotebookNode) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(nb, ensure_ascii=True))  # surrogates as JSON escapes, as on disk


def zip_bytes(names: list[bytes]) -> bytes:
    """A zip whose members have exactly these names (bytes, flagged UTF-8, valid or not)."""
    buffer = io.BytesIO()
    placeholders = [bytes([65 + i]) * len(name) for i, name in enumerate(names)]
    with zipfile.ZipFile(buffer, "w") as zf:
        for placeholder in placeholders:
            zf.writestr(placeholder.decode(), b"x")
    data = bytearray(buffer.getvalue())
    for placeholder, name in zip(placeholders, names, strict=True):
        for signature, name_at in ((b"PK\x03\x04", 30), (b"PK\x01\x02", 46)):
            at = data.find(signature)
            while at != -1:
                if data[at + name_at: at + name_at + len(name)] == placeholder:
                    data[at + name_at: at + name_at + len(name)] = name
                    flag = 6 if signature == b"PK\x03\x04" else 8
                    data[at + flag + 1] |= 0x08  # bit 11: UTF-8
                at = data.find(signature, at + 4)
    return bytes(data)


@settings(max_examples=int(os.environ.get("ASYNCOURSE_HYPOTHESIS_EXAMPLES", "6")),
          deadline=None, derandomize=True, database=None, phases=PHASES,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(markdown=TEXT, code=TEXT, outs=outputs(),
       raw_name=st.binary(min_size=1, max_size=8).filter(lambda b: not {47, 0} & set(b)),
       zipped=st.lists(NAME, max_size=3, unique_by=len))
def test_hostile_data_never_stops_the_class_and_never_reaches_a_reader_raw(
        course: Course, markdown: str, code: str, outs: list[dict[str, Any]], raw_name: bytes,
        zipped: list[bytes]) -> None:
    root = course.root
    for folder in ("submitted", "autograded", "feedback", ".grading", "downloads"):
        shutil.rmtree(root / folder, ignore_errors=True)  # a fresh class for each example
    honest = fill_in(course.release_notebook("ps1"), reference(course, "ps1"))
    write_raw(root / "submitted" / "honest" / "ps1" / "ps1.ipynb", honest)
    write_raw(root / "submitted" / "hostile" / "ps1" / "ps1.ipynb",
              learner_notebook(course, markdown, code))
    odd = root / "submitted" / "oddname" / "ps1"
    write_raw(odd / "ps1.ipynb", honest)
    (odd / os.fsdecode(raw_name)).write_bytes(b"data")
    downloads = root / "downloads"
    downloads.mkdir()
    (downloads / "zipper.zip").write_bytes(zip_bytes(zipped))
    subs = {s.student: s for s in collect(root, "ps1", ["ps1"], downloads).submissions}
    assert {"honest", "hostile", "oddname", "zipper"} <= set(subs)
    state = GradingState(root / ".grading" / "ps1.jsonl")
    with ClassGradebook(root, "ps1", root / ".grading" / "ps1.log") as book:
        report = pipeline.Report()
        quiet = tqdm(disable=True)
        # the class command's own steps, with each notebook's run replaced by made-up outputs
        for batch in pipeline._prepared(book, state, list(subs.values()), False, report, quiet):
            for prepared in batch.notebooks:
                executed = nbformat.reads(prepared.job.notebook, as_version=4)
                for cell in executed.cells:
                    if cell.cell_type == "code":
                        cell.outputs = [nbformat.from_dict(o) for o in outs]
                batch.results[prepared.job.notebook_id] = JobResult(
                    batch.student, "ps1", prepared.job.notebook_id, prepared.job.resume_key,
                    json.dumps(executed), "completed", "",
                    cells=tuple(CellRun(i, "ok") for i in range(len(executed.cells))))
            pipeline._save(book, state, batch, report)
        table = export.rows("ps1", list(book.max_points), book.scores(), state.records)
        export.write_csv(root / "grades.csv", table, list(book.max_points))
        summary = export.summary(table, book.max_points, state.records, graded_now=len(subs),
                                 skipped=0, seconds=1.0)
        failed = book.generate_feedback(["hostile"])
    assert set(state.records) >= set(subs), "every learner has a record"
    assert state.records["honest"].outcome == "graded"
    assert not failed, f"feedback failed for {failed}"
    for text in (summary, (root / "grades.csv").read_text()):
        raw = {c for c in text if not c.isprintable() and c not in "\n\t"}
        assert not raw, f"control characters reach a reader: {raw}"
    for path in root.glob("autograded/**/*.ipynb"):
        nbformat.read(path, as_version=4)  # written whole, valid
    for path in root.glob("feedback/**/*.html"):
        page = path.read_text()
        assert "<script>alert(1)</script>" not in page and "onerror=alert(1)>" not in page
