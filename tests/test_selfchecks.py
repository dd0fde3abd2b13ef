"""Every lecture's self-checks say "right" to a right answer and "not yet" to a typical wrong one.

A self-check is a cell the learner completes (tagged ``selfcheck-<name>``), the check cell after
it (``check-<name>``) and, below that, an answer in a ``<details>`` block. The check runs here
in-process, without a kernel: the notebook's cells tagged ``selfcheck-setup`` above the attempt
(its definitions; IPython ``%`` lines dropped), then an attempt, then any setup cells between
the attempt and the check (helpers the check calls), then the check cell, whose verdict is
what it printed from its last line starting "right" or "not yet: ". Each self-check is run
three ways:

- with the answer its ``<details>`` block shows: it must say ``right``;
- with a typical wrong attempt from ``WRONG`` below: it must say ``not yet`` and name the mistake;
- with the cell as shipped (the blank to fill in): it must not say ``right``.

So no self-check can pass whatever the learner writes, and the answer a learner can open is one
that passes. A new self-check fails ``test_every_self_check_has_a_wrong_attempt`` until it has an
entry here.
"""

from __future__ import annotations

import contextlib
import io
import re
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest
from nbformat import NotebookNode

from tests.support.paths import NOTEBOOKS

LECTURES = sorted(p for p in NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
ANSWER = re.compile(r"<details>.*?```python\n(.*?)```", re.DOTALL)


@dataclass(frozen=True)
class Wrong:
    """A typical wrong attempt and words its verdict must contain."""

    source: str
    says: tuple[str, ...]


# (notebook number, self-check name) -> a typical wrong attempt
WRONG: dict[tuple[str, str], Wrong] = {
    ("00", "gather-seconds"): Wrong("seconds = 4\n", ("4 s is the sum",)),
    ("00", "three-words"): Wrong(
        "async def three_words() -> list[str]:\n"
        "    return [await wait_and_say('one', 1), await wait_and_say('two', 2),\n"
        "            await wait_and_say('three', 3)]\n",
        ("took 6.0 virtual seconds", "ran one after another")),
    ("01", "two-cups"): Wrong(
        'async def two_cups() -> list[str]:\n    return [brew("mint"), brew("sage")]\n',
        ("the coroutine `brew`", "was never awaited")),
    ("01", "lines-printed"): Wrong("lines_printed = 3\n", ("runs none of its body",)),
    ("02", "steep-three"): Wrong(
        "async def steep_three() -> list[str]:\n"
        "    return [await steep(1.0), await steep(2.0), await steep(0.5)]\n",
        ("took 3.5 virtual seconds", "ran one after another")),
    ("02", "order"): Wrong('predicted = ["steeped 1.0 s", "task ran"]\n',
                           ("the loop runs the other ready tasks",)),
    ("03", "sends"): Wrong("sends = 2\n", ("one more send resumes it after the last await",)),
    ("03", "considerate"): Wrong(
        "async def considerate(name: str) -> None:\n"
        "    for _ in range(3):\n"
        "        time.sleep(0.25)\n"
        "    await asyncio.sleep(0)\n",
        ("after all of A's slices", "a turn after each slice")),
    ("04", "warmest"): Wrong(
        "async def warmest(*stations: str) -> str:\n"
        "    temps = {s: await to_celsius(s) for s in stations}\n"
        "    return max(temps, key=temps.get)\n",
        ("raised StationOffline: station 'atlantis' did not answer",)),
    ("04", "bulletin-seconds"): Wrong("bulletin_seconds = 2.0\n",
                                      ("stops at the failed fetch",)),
    ("05", "fetch-both"): Wrong(
        "async def fetch_both() -> list[str]:\n"
        "    return [await download('a.txt', 1), await download('b.txt', 2)]\n",
        ("took 3.0 virtual seconds", "ran one after another")),
    ("05", "two-at-a-time"): Wrong(
        "async def two_at_a_time(seconds: list[float]) -> list[str]:\n"
        "    return await asyncio.gather(\n"
        "        *(download(f'file{i}', s) for i, s in enumerate(seconds)))\n",
        ("up to 4 downloads ran at the same time, but at most 2 may run at once",)),
    ("06", "basket-sum"): Wrong(
        "async def basket_sum() -> float:\n    return quote('tea') + quote('scones')\n",
        ("raised TypeError: unsupported operand type(s) for +: 'coroutine' and 'coroutine'",
         "the coroutine `quote` created at line 2 (in `basket_sum`) was never awaited")),
    ("06", "check-all"): Wrong(
        "async def check_all(delays: list[float]) -> list[str]:\n"
        "    return [slow_checksum(d) for d in delays]\n",
        ("the event loop was blocked 4.5 s", "by 3 calls of `time.sleep` in `check_all`")),
    ("07", "loop-is-running"): Wrong(
        "def loop_is_running() -> bool:\n    return asyncio.get_event_loop() is not None\n",
        ("raised RuntimeError: There is no current event loop",)),
    ("07", "works"): Wrong('works = "c"\n', ("This event loop is already running",)),
    ("08", "at-most"): Wrong(
        "async def at_most(seconds: float, job_seconds: float) -> str:\n"
        "    return await asyncio.wait_for(long_job(job_seconds), seconds)\n",
        ("`at_most(2.5, 10)` raised TimeoutError",)),
    ("08", "hasty"): Wrong("lines_printed = 3\n", ("it never started, so nothing ran",)),
    ("09", "deposit-safely"): Wrong(
        "async def deposit_safely(account: Account, amount: int) -> None:\n"
        "    balance = account.balance\n"
        "    await asyncio.sleep(0.1)\n"
        "    account.balance = balance + amount\n",
        ("the balance is 10, not 50", "hold `account.lock` around the read")),
    ("09", "retry"): Wrong(
        "async def retry(call, attempts: int):\n"
        "    for attempt in range(attempts):\n"
        "        try:\n"
        "            return await call()\n"
        "        except ConnectionError:\n"
        "            if attempt == attempts - 1:\n"
        "                raise\n",
        ("every attempt followed the last failure at once",)),
}


@dataclass(frozen=True)
class SelfCheck:
    notebook: Path
    name: str
    setup: list[str]  # the setup cells above the attempt
    attempt: str
    helpers: list[str]  # setup cells between the attempt and the check
    check: str
    answer: str
    above: str  # every cell above the attempt, for the no-spoiler check

    @property
    def key(self) -> tuple[str, str]:
        return (self.notebook.name[:2], self.name)

    def run(self, attempt: str) -> str:
        """The verdict of the check cell after ``attempt``: its last "right" or "not yet" on."""
        namespace: dict[str, object] = {"__name__": "__main__"}
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            for index, source in enumerate([*self.setup, attempt, *self.helpers]):
                exec(compile(source, f"<{self.name} cell {index}>", "exec"), namespace)
            exec(compile(self.check, f"<check-{self.name}>", "exec"), namespace)
        lines = out.getvalue().strip().splitlines()
        starts = [i for i, line in enumerate(lines) if line.startswith(("right", "not yet: "))]
        assert starts, f"the check of {self.name} said neither right nor not yet: {lines}"
        return "\n".join(lines[starts[-1]:])


def _tags(cell: NotebookNode) -> list[str]:
    return list(cell.metadata.get("tags", []))


def _plain(source: str) -> str:
    """A setup cell without IPython's ``%`` lines."""
    return "\n".join(line for line in source.splitlines() if not line.startswith("%"))


def self_checks(path: Path) -> list[SelfCheck]:
    nb = nbformat.read(path, as_version=4)
    found = []
    for index, cell in enumerate(nb.cells):
        names = [t.removeprefix("selfcheck-") for t in _tags(cell)
                 if t.startswith("selfcheck-") and t != "selfcheck-setup"]
        for name in names:
            checks = [i for i, c in enumerate(nb.cells) if f"check-{name}" in _tags(c)]
            assert len(checks) == 1, f"{path.name}: self-check {name} needs one check cell"
            check = checks[0]
            assert check > index, f"{path.name}: the check of {name} comes before the attempt"
            answers = [ANSWER.search(c.source) for c in nb.cells[check + 1:check + 3]
                       if c.cell_type == "markdown"]
            answer = next((a.group(1) for a in answers if a), None)
            assert answer, f"{path.name}: no <details> answer right after the check of {name}"
            setup = [_plain(c.source) for c in nb.cells[:index]
                     if "selfcheck-setup" in _tags(c)]
            helpers = [_plain(c.source) for c in nb.cells[index + 1:check]
                       if "selfcheck-setup" in _tags(c)]
            above = "\n".join(c.source for c in nb.cells[:index])
            found.append(SelfCheck(path, name, setup, cell.source, helpers,
                                   nb.cells[check].source, answer, above))
    return found


ALL = [check for path in LECTURES for check in self_checks(path)]


def _param(check: SelfCheck) -> object:
    return pytest.param(check, id=f"{check.notebook.name[:2]}-{check.name}")


def test_every_lecture_has_two_self_checks() -> None:
    assert LECTURES, "no lecture notebooks found"
    counts = {path.name: len(self_checks(path)) for path in LECTURES}
    assert all(n >= 2 for n in counts.values()), counts


def test_every_self_check_has_a_wrong_attempt() -> None:
    keys = {check.key for check in ALL}
    assert keys == set(WRONG), (
        f"self-checks without a wrong attempt here: {sorted(keys - set(WRONG))}; "
        f"entries for self-checks that no longer exist: {sorted(set(WRONG) - keys)}")


@pytest.mark.parametrize("check", [_param(c) for c in ALL])
def test_the_shown_answer_is_right(check: SelfCheck) -> None:
    verdict = check.run(check.answer)
    assert verdict.startswith("right"), f"{check.name}, its own answer: {verdict}"


@pytest.mark.parametrize("check", [_param(c) for c in ALL])
def test_a_typical_wrong_attempt_is_named(check: SelfCheck) -> None:
    wrong = WRONG[check.key]
    verdict = check.run(wrong.source)
    assert verdict.startswith("not yet: "), f"{check.name}, a wrong attempt: {verdict}"
    for words in wrong.says:
        assert words in verdict, f"{check.name}: {words!r} not in {verdict!r}"


@pytest.mark.parametrize("check", [_param(c) for c in ALL])
def test_the_blank_as_shipped_is_not_right_and_no_answer_is_above_it(check: SelfCheck) -> None:
    verdict = check.run(check.attempt)
    assert verdict.startswith("not yet: "), f"{check.name}, as shipped: {verdict}"
    squeeze = re.compile(r"\s+")
    assert squeeze.sub(" ", check.answer.strip()) not in squeeze.sub(" ", check.above), (
        f"{check.name}: its answer is shown above the attempt")


# Try-it prompts whose answer another change owns (with the reason); every other one has its own
TRY_IT_ANSWERED_ELSEWHERE: dict[tuple[str, str], str] = {}


def test_every_try_it_exemption_names_a_real_prompt_and_says_why() -> None:
    for (number, needle), reason in TRY_IT_ANSWERED_ELSEWHERE.items():
        (path,) = [p for p in LECTURES if p.name.startswith(number)]
        text = "\n".join(c.source for c in nbformat.read(path, as_version=4).cells)
        assert needle in text, f"no Try it in {path.name} contains {needle!r}: drop it"
        assert len(reason.split()) >= 5


@pytest.mark.parametrize("path", [pytest.param(p, id=p.name[:2]) for p in LECTURES])
def test_every_try_it_has_an_answer_to_open(path: Path) -> None:
    """Each "**Try it.**" is followed, before the next heading or self-check, by a <details>
    block (in the same cell, or at the top of the next cell); Try-its in a row may share one."""
    cells = nbformat.read(path, as_version=4).cells
    unanswered = []
    for index, cell in enumerate(cells):
        if cell.cell_type != "markdown":
            continue
        for prompt in re.finditer(re.escape("**Try it.**"), cell.source):
            rest = cell.source[prompt.end():]
            tail = re.split(r"\n#+ |\*\*Self-check", rest)[0]
            following = cells[index + 1].source.lstrip() if index + 1 < len(cells) else ""
            answered = "<details>" in tail or (tail == rest and following.startswith("<details>"))
            exempt = any(path.name.startswith(number) and needle in rest
                         for number, needle in TRY_IT_ANSWERED_ELSEWHERE)
            if not answered and not exempt:
                unanswered.append(rest.strip().splitlines()[0])
    assert not unanswered, f"{path.name}: Try it without an answer: {unanswered}"
