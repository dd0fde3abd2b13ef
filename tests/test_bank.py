"""The proof bank: graded by the real nbgrader, every correct alternative gets full marks and every
wrong solution loses exactly the points its header says, with feedback that names the mistake.

The bank format is described in ``tests/bank/README.md``. For each assignment with a bank
folder, one throwaway course (``tests.support.course``) gets the untouched student version, the
reference solutions, and the bank packed into whole notebooks as learners hand them in: pack ``j``
answers every question with that question's ``j``-th bank entry (the reference where a question has
fewer), so a class of ~10 notebooks proves ~40 entries and also proves that one question's mistake
never costs points in another question. A single ``nbgrader autograde`` grades them all. Tests of
one assignment share that run (an xdist group).
"""

from __future__ import annotations

import html
import re
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
import pytest
from nbformat import NotebookNode

from tests.support.course import Course, Result, fill_in
from tests.support.paths import BANK, REPO, SOURCE

KEYS = {"expect", "style", "mistake", "feedback", "tests", "proves"}
# What an entry proves about its question's tests (see "Both directions" in tests/bank/README.md):
# a correct answer that schedules its work differently from the reference, a wrong one that
# passes every visible check.
ANOTHER_SCHEDULE, VISIBLE_PASS = "another schedule", "visible checks pass"
PROVES = {ANOTHER_SCHEDULE: True, VISIBLE_PASS: False}  # -> must the entry be correct?
MIN_CORRECT = MIN_WRONG = MIN_STYLES = 3
RELEASE_STUDENT = "untouched-release"
REFERENCE_STUDENT = "reference-solution"
HIDDEN = ("### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS")
SOLUTION_MARKERS = ("### BEGIN SOLUTION", "### END SOLUTION")


@dataclass(frozen=True)
class Entry:
    """One bank file: a solution cell a learner could hand in, and what it must score."""

    assignment: str
    question: str  # grade_id of the solution cell
    name: str
    source: str
    expect: float | None  # None: full marks
    feedback: tuple[str, ...] = ()
    mistake: str = ""
    style: str = ""
    tests: tuple[str, ...] = ()  # from the header; empty: the test cells after the question
    proves: tuple[str, ...] = ()

    def __repr__(self) -> str:
        return f"Entry({self.assignment}/{self.question}/{self.name}, expect={self.expected})"

    @property
    def correct(self) -> bool:
        return self.expect is None

    @property
    def expected(self) -> str:
        return "full" if self.expect is None else f"{self.expect:g}"



def parse_entry(path: Path) -> Entry:
    """Read a bank file; a malformed header raises ValueError naming the file and the line."""
    text = path.read_text(encoding="utf-8")
    fields: dict[str, list[str]] = {}
    for number, line in enumerate(text.splitlines(), 1):
        if not line.startswith("#"):
            break
        match = re.match(r"#\s*([a-z]+)\s*:\s*(.*?)\s*$", line)
        if not match or match.group(1) not in KEYS:
            raise ValueError(f"{path}:{number}: not a header line `# key: value` with a key of "
                             f"{sorted(KEYS)}: {line!r}")
        fields.setdefault(match.group(1), []).append(match.group(2))
    where = path.relative_to(BANK).as_posix()
    for key in ("expect", "style", "mistake", "tests", "proves"):
        if len(fields.get(key, [])) > 1:
            raise ValueError(f"{where}: `# {key}:` given more than once")
    if "expect" not in fields:
        raise ValueError(f"{where}: no `# expect:` line")
    raw = fields["expect"][0]
    try:
        expect = None if raw == "full" else float(raw)
    except ValueError:
        raise ValueError(f"{where}: `# expect: {raw}` is neither `full` nor a number") from None
    tests = tuple(t.strip() for t in fields.get("tests", [""])[0].split(",") if t.strip())
    return Entry(
        assignment=path.parent.parent.name,
        question=path.parent.name,
        name=path.stem,
        source=text,
        expect=expect,
        feedback=tuple(f for f in fields.get("feedback", []) if f),
        mistake=fields.get("mistake", [""])[0],
        style=fields.get("style", [""])[0],
        tests=tests,
        proves=tuple(p.strip() for p in fields.get("proves", [""])[0].split(",") if p.strip()),
    )


def bank_assignments() -> list[str]:
    """Assignments that have both a bank folder and a source notebook."""
    if not BANK.is_dir():
        return []
    return sorted(p.name for p in BANK.iterdir()
                  if p.is_dir() and (SOURCE / p.name / f"{p.name}.ipynb").is_file())


def entries(assignment: str) -> list[Entry]:
    return [parse_entry(p) for p in sorted((BANK / assignment).glob("*/*.py"))]


def _grade_meta(cell: NotebookNode) -> dict[str, object]:
    return dict(cell.metadata.get("nbgrader", {}))


@dataclass
class Layout:
    """The graded structure of an instructor notebook."""

    solutions: dict[str, str]  # solution grade_id -> reference source, markers removed
    points: dict[str, float]  # graded test cell grade_id -> points
    following: dict[str, list[str]]  # solution grade_id -> graded test cells after it
    hidden_lines: list[str] = field(default_factory=list)
    visible_test_lines: list[str] = field(default_factory=list)


def layout(assignment: str) -> Layout:
    nb = nbformat.read(SOURCE / assignment / f"{assignment}.ipynb", as_version=4)
    found = Layout({}, {}, {})
    current: str | None = None
    for cell in nb.cells:
        meta = _grade_meta(cell)
        grade_id = str(meta.get("grade_id", ""))
        if meta.get("solution") and cell.cell_type == "code":
            found.solutions[grade_id] = "\n".join(
                line for line in cell.source.splitlines()
                if line.strip() not in SOLUTION_MARKERS)
            found.following[grade_id] = []
            current = grade_id
        elif meta.get("grade") and cell.cell_type == "code":
            found.points[grade_id] = float(meta.get("points", 0))
            if current is not None:
                found.following[current].append(grade_id)
            hidden = False
            for line in cell.source.splitlines():
                if line.strip().startswith(HIDDEN[0]):
                    hidden = True
                elif line.strip().startswith(HIDDEN[1]):
                    hidden = False
                elif len(line.strip()) > 12:
                    (found.hidden_lines if hidden else found.visible_test_lines).append(line)
    return found


def scoring_cells(entry: Entry, shape: Layout) -> list[str]:
    return list(entry.tests) or shape.following.get(entry.question, [])


@dataclass(frozen=True)
class Pack:
    """One submitted notebook: a bank entry for some questions, the reference for the others."""

    student: str
    entries: dict[str, Entry]  # question -> the entry answering it

    def answers(self, shape: Layout) -> dict[str, str]:
        return {**shape.solutions, **{q: e.source for q, e in self.entries.items()}}


def packs(bank: list[Entry]) -> list[Pack]:
    """Pack ``j`` holds the ``j``-th entry of every question that has one."""
    by_question: dict[str, list[Entry]] = {}
    for e in bank:
        by_question.setdefault(e.question, []).append(e)
    depth = max((len(v) for v in by_question.values()), default=0)
    return [Pack(f"pack-{j:02d}", {q: v[j] for q, v in by_question.items() if j < len(v)})
            for j in range(depth)]


@dataclass(frozen=True)
class Statement:
    """A question's line in tests/bank/README.md: the property its tests grade."""

    assignment: str
    question: str
    property: str
    schedules: str  # "any": other schedules are right too; "one": one time is the only answer


def statements() -> dict[tuple[str, str], Statement]:
    """The table "What each question's tests grade" of tests/bank/README.md."""
    found = {}
    for line in (BANK / "README.md").read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 4 and re.fullmatch(r"`ps\d+`", cells[0]):
            a, q = cells[0].strip("`"), cells[1].strip("`")
            found[(a, q)] = Statement(a, q, cells[2], cells[3])
    return found


# ------------------------------------------------------------------ the bank is well formed
ASSIGNMENTS = bank_assignments()


def test_there_is_a_bank() -> None:
    assert ASSIGNMENTS, f"no assignment under {BANK.relative_to(REPO)} matches one in source/"


def bank_problems(assignment: str) -> Iterator[str]:
    """Everything wrong with the bank of ``assignment`` as written (nothing graded)."""
    shape = layout(assignment)
    bank = entries(assignment)
    folders = {p.name for p in (BANK / assignment).iterdir() if p.is_dir()}
    for folder in sorted(folders - set(shape.solutions)):
        yield (f"bank folder {folder!r} is no solution cell of {assignment} "
               f"({sorted(shape.solutions)})")
    for question in shape.solutions:
        mine = [e for e in bank if e.question == question]
        correct = [e for e in mine if e.correct]
        wrong = [e for e in mine if not e.correct]
        styles = {e.style.lower() for e in correct}
        if len(correct) < MIN_CORRECT or len(styles) < MIN_STYLES:
            yield (f"{question}: {len(correct)} correct solutions in {len(styles)} styles; "
                   f"needs {MIN_CORRECT} in {MIN_STYLES} different styles")
        if len(wrong) < MIN_WRONG:
            yield f"{question}: {len(wrong)} wrong solutions; needs {MIN_WRONG}"
        if not shape.following.get(question) and not any(e.tests for e in mine):
            yield f"{question}: no graded test cell follows it and no entry names `# tests:`"
        said = statements().get((assignment, question))
        if said is None or not said.property:
            yield (f"{question}: no line in tests/bank/README.md states the property its tests "
                   "grade")
        elif said.schedules not in ("any", "one"):
            yield f"{question}: README says schedules {said.schedules!r}: write `any` or `one`"
        # both directions: a wrong answer the visible checks let through, which hidden ones
        # catch; where other schedules are right, a correct answer that schedules differently
        if not any(VISIBLE_PASS in e.proves for e in wrong):
            yield f"{question}: no wrong entry with `# proves: {VISIBLE_PASS}`"
        if said is not None and said.schedules == "any" and not any(
                ANOTHER_SCHEDULE in e.proves for e in correct):
            yield (f"{question}: other schedules are right, but no correct entry has "
                   f"`# proves: {ANOTHER_SCHEDULE}`")
    for e in bank:
        where = f"{e.question}/{e.name}.py"
        unknown = [t for t in e.tests if t not in shape.points]
        if unknown:
            yield f"{where}: `# tests:` names no graded cell of {assignment}: {unknown}"
        worth = sum(shape.points.get(t, 0) for t in scoring_cells(e, shape))
        if e.correct and not e.style:
            yield f"{where}: a correct solution needs `# style:`"
        if not e.correct:
            if not e.mistake:
                yield f"{where}: a wrong solution needs `# mistake:`"
            if not e.feedback:
                yield f"{where}: a wrong solution needs at least one `# feedback:` phrase"
            if e.expect is not None and not 0 <= e.expect < worth:
                yield (f"{where}: `# expect: {e.expected}` must be below the {worth:g} points of "
                       "its test cells (a wrong solution must lose points)")
        for claim in e.proves:
            if claim not in PROVES:
                yield f"{where}: `# proves: {claim}` is none of {sorted(PROVES)}"
            elif PROVES[claim] != e.correct:
                yield (f"{where}: `# proves: {claim}` is for a "
                       f"{'correct' if PROVES[claim] else 'wrong'} entry")
        if not re.fullmatch(r"[a-z0-9_]+", e.name):
            yield f"{where}: name bank files in snake_case"
    owner: dict[str, str] = {}
    for e in bank:
        for cell in scoring_cells(e, shape):
            if owner.setdefault(cell, e.question) != e.question:
                yield (f"{e.question}/{e.name}.py: scores {cell!r}, which scores "
                       f"{owner[cell]!r} too (a packed notebook could not tell them apart)")


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_bank_is_well_formed(assignment: str) -> None:
    problems = list(bank_problems(assignment))
    assert not problems, f"tests/bank/{assignment}:\n" + "\n".join(problems)


# ------------------------------------------------------------------ grading the bank
@dataclass
class Graded:
    course: Course
    shape: Layout
    bank: list[Entry]
    packs: list[Pack]
    results: dict[str, Result]
    log: str = ""  # what nbgrader autograde printed

    def graded(self, student: str, assignment: str) -> bool:
        return (self.course.root / "autograded" / student / assignment).is_dir()

    def pack_of(self, entry: Entry) -> Pack:
        return next(p for p in self.packs if p.entries.get(entry.question) is entry)

    @property
    def everyone(self) -> list[str]:
        return [RELEASE_STUDENT, REFERENCE_STUDENT, *(p.student for p in self.packs)]


_GRADED: dict[str, Graded] = {}
_BROKEN: dict[str, Exception] = {}


def graded(assignment: str, tmp_path_factory: pytest.TempPathFactory) -> Graded:
    """Autograde every bank entry of ``assignment`` once per test session (and xdist worker)."""
    if assignment in _BROKEN:
        pytest.fail(f"grading the bank of {assignment} failed earlier: {_BROKEN[assignment]!r}")
    try:
        return _GRADED[assignment] if assignment in _GRADED else _grade(assignment,
                                                                         tmp_path_factory)
    except Exception as exc:
        _BROKEN[assignment] = exc
        raise


def autograde_some(course: Course, assignment: str, students: list[str], everyone: list[str],
                   *, check: bool = True) -> subprocess.CompletedProcess[str]:
    """``nbgrader autograde`` for several ``students`` of ``everyone`` in one run.

    nbgrader's ``--student`` takes a single id (so ``Course.autograde`` with several fails with
    "student_id only accepts one value"): exclude all the others instead.
    """
    others = [s for s in everyone if s not in students]
    args = [f"--CourseDirectory.student_id_exclude={','.join(others)}"] if others else []
    return course.nbgrader("autograde", assignment, "--force", *args, check=check)


def _grade(assignment: str, tmp_path_factory: pytest.TempPathFactory) -> Graded:
    """One `nbgrader autograde` of the untouched release, the reference and every pack."""
    shape = layout(assignment)
    bank = entries(assignment)
    course = Course.create(tmp_path_factory.mktemp(f"bank-{assignment}") / "course",
                           [assignment])
    release = course.release_notebook(assignment)
    course.submit(RELEASE_STUDENT, assignment, release)
    course.submit(REFERENCE_STUDENT, assignment, fill_in(release, shape.solutions))
    packed = packs(bank)
    for pack in packed:
        course.submit(pack.student, assignment, fill_in(release, pack.answers(shape)))
    done = course.autograde(assignment, check=False)
    log = done.stdout + done.stderr
    run = Graded(course, shape, bank, packed, {}, log)
    # nbgrader skips a submission whose kernel failed to start or timed out (it happens on an
    # overloaded machine) and exits non-zero: grade those once more, alone. A submission that
    # fails again is reported as "not graded" with nbgrader's log.
    missing = [s for s in run.everyone if not run.graded(s, assignment)]
    if missing:
        again = autograde_some(course, assignment, missing, run.everyone, check=False)
        run.log += again.stdout + again.stderr
    run.results = course.results(assignment)
    _GRADED[assignment] = run
    return run


@dataclass(frozen=True)
class Row:
    entry: Entry
    got: str
    problem: str
    lost_points: bool = False  # scored below what its test cells are worth

    def cells(self) -> tuple[str, ...]:
        e = self.entry
        return (e.assignment, e.question, e.name, e.expected, self.got, self.problem or "ok")


def check(entry: Entry, run: Graded) -> Row:
    """Grade one entry against its header."""
    student = run.pack_of(entry).student
    result = run.results.get(student)
    if result is None or not run.graded(student, entry.assignment):
        errors = [line for line in run.log.splitlines()
                  if student in line and ("ERROR" in line or "rror" in line)]
        return Row(entry, "-", f"not graded: nbgrader failed on {student} {errors[-3:]}",
                   lost_points=False)
    cells = scoring_cells(entry, run.shape)
    missing = [c for c in cells if c not in result.grades]
    if missing:
        return Row(entry, "-", f"no score for {missing}")
    got = sum(result.grades[c].score for c in cells)
    worth = sum(result.grades[c].max_score for c in cells)
    want = worth if entry.expect is None else entry.expect
    problems = []
    if abs(got - want) > 1e-9:
        problems.append(f"scored {got:g}/{worth:g}")
    said = "".join(run.course.cell_text(student, entry.assignment, c) for c in cells)
    flat = " ".join(said.split()).lower()  # a message may be wrapped over lines
    unsaid = [f for f in entry.feedback if " ".join(f.split()).lower() not in flat]
    if unsaid:
        shown = " | ".join(line for line in said.splitlines() if line.strip())[:300]
        problems.append(f"feedback lacks {unsaid}: it said {shown!r}")
    return Row(entry, f"{got:g}", "; ".join(problems), lost_points=got < worth)


def reference_cells_lost(run: Graded, pack: Pack) -> list[str]:
    """Cells of questions a pack answers with the reference that did not get full marks."""
    answered = {c for e in pack.entries.values() for c in scoring_cells(e, run.shape)}
    result = run.results.get(pack.student)
    if result is None:
        return []
    return [name for name, g in result.grades.items()
            if name not in answered and g.score != g.max_score]


def table(rows: list[tuple[str, ...]]) -> str:
    head = ("assignment", "question", "entry", "expected", "got", "problem")
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(len(head) - 1)]
    lines = []
    for r in [head, *rows]:
        lines.append("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=False)) + "  " + r[-1])
    return "\n".join(lines)


def summary(rows: list[Row]) -> str:
    wrong = [r for r in rows if not r.entry.correct]
    right = [r for r in rows if r.entry.correct]
    killed = [r for r in wrong if r.lost_points]
    passed = [r for r in right if not r.problem]
    return (f"{len(rows)} entries; wrong solutions that lost their points: {len(killed)}/"
            f"{len(wrong)}; correct alternatives with full marks: {len(passed)}/{len(right)}")


def bank_param(assignment: str) -> object:
    return pytest.param(assignment, marks=pytest.mark.xdist_group(f"bank:{assignment}"))


@pytest.mark.slow
@pytest.mark.parametrize("assignment", [bank_param(a) for a in ASSIGNMENTS])
def test_every_bank_entry_scores_as_expected(
    assignment: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    run = graded(assignment, tmp_path_factory)
    rows = [check(e, run) for e in run.bank]
    report = (table([r.cells() for r in rows]) + "\n" + summary(rows)
              + f" ({len(run.packs)} packed notebooks)")
    print(f"\n{report}")
    bad = [r for r in rows if r.problem]
    assert not bad, f"{len(bad)} bank entries of {assignment} are off:\n{report}"
    spilled = {p.student: lost for p in run.packs if (lost := reference_cells_lost(run, p))}
    assert not spilled, (f"a bank entry cost points in a question answered with the reference "
                         f"(pack: cells): {spilled}")


@pytest.mark.slow
@pytest.mark.parametrize("assignment", [bank_param(a) for a in ASSIGNMENTS])
def test_untouched_release_scores_nothing(
    assignment: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    run = graded(assignment, tmp_path_factory)
    assert run.graded(RELEASE_STUDENT, assignment), f"nbgrader failed:\n{run.log[-3000:]}"
    result = run.results[RELEASE_STUDENT]
    scored = {k: v for k, v in result.grades.items() if v.score}
    assert not scored, f"the untouched student version of {assignment} scores points: {scored}"
    assert result.max_score == sum(run.shape.points.values())


@pytest.mark.slow
@pytest.mark.parametrize("assignment", [bank_param(a) for a in ASSIGNMENTS])
def test_reference_solution_scores_full_marks(
    assignment: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    run = graded(assignment, tmp_path_factory)
    assert run.graded(REFERENCE_STUDENT, assignment), f"nbgrader failed:\n{run.log[-3000:]}"
    assert run.results[REFERENCE_STUDENT].full_marks, run.results[REFERENCE_STUDENT]


def _visible_text(page: str) -> str:
    """The feedback HTML as text: tags removed, entities decoded, whitespace collapsed."""
    page = re.sub(r"<style.*?</style>|<script.*?</script>", " ", page, flags=re.S)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", "", page)).split())


@pytest.mark.slow
@pytest.mark.parametrize("assignment", [bank_param(a) for a in ASSIGNMENTS])
def test_feedback_names_the_mistake_and_hides_hidden_tests(
    assignment: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    run = graded(assignment, tmp_path_factory)
    wrong = next(e for e in run.bank if not e.correct and e.expect == 0)
    pack = run.pack_of(wrong)
    text = _visible_text(run.course.feedback(pack.student, assignment))
    for phrase in wrong.feedback:
        assert " ".join(phrase.split()).lower() in text.lower(), (
            f"feedback for {wrong} lacks {phrase!r}")
    shown = [line for line in run.shape.visible_test_lines if " ".join(line.split()) in text]
    assert shown, "the feedback shows no visible test line: this check could not see code"
    seen = {" ".join(line.split()) for e in pack.entries.values()
            for line in e.source.splitlines()} | {
        " ".join(line.split())
        for cell in nbformat.read(run.course.release_notebook(assignment), as_version=4).cells
        for line in cell.source.splitlines()}
    secret = {" ".join(line.split()) for line in run.shape.hidden_lines} - seen
    assert secret, f"{assignment} has no hidden test line to look for"
    leaked = sorted(line for line in secret if line in text)
    assert not leaked, f"the feedback for {wrong} shows hidden test lines: {leaked[:5]}"
