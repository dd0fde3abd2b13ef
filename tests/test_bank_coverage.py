"""The bank covers both directions, proved by running the entries (see "Both directions" in
tests/bank/README.md): every `# proves: visible checks pass` entry passes each visible check of
its question, every `# proves: another schedule` entry passes and has, in at least one graded
run, a schedule other than the reference's. Each answer runs in its own Python process, no
kernel (``tests.support.inprocess``); that the wrong ones lose their points to hidden tests is
``test_bank.py``'s job, under the real nbgrader."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.support.inprocess import Outcome, graded_elsewhere
from tests.test_bank import ANOTHER_SCHEDULE, ASSIGNMENTS, VISIBLE_PASS, Entry, entries

pytestmark = pytest.mark.slow


def _claims(claim: str) -> list[Entry]:
    return [e for a in ASSIGNMENTS for e in entries(a) if claim in e.proves]


def _in_children(jobs: list[tuple[Entry | tuple[str, str], bool]]) -> list[list[Outcome]]:
    """Grade each (entry, or (assignment, question) for the reference; hidden tests too?)."""
    def one(job: tuple[Entry | tuple[str, str], bool]) -> list[Outcome]:
        what, hidden = job
        if isinstance(what, Entry):
            return graded_elsewhere(what.assignment, what.question, what.source, hidden=hidden)
        return graded_elsewhere(*what, hidden=hidden)

    with ThreadPoolExecutor(max_workers=2) as pool:  # 2 cores, shared
        return list(pool.map(one, jobs))


def test_wrong_entries_that_claim_it_pass_every_visible_check() -> None:
    claimed = _claims(VISIBLE_PASS)
    assert claimed, "no entry claims to pass the visible checks"
    failed = {f"{e.assignment}/{e.question}/{e.name}": [o.message for o in outcomes if not o.passed]
              for e, outcomes in zip(claimed, _in_children([(e, False) for e in claimed]),
                                     strict=True)}
    failed = {k: v for k, v in failed.items() if v}
    assert not failed, f"these fail a visible check, so they prove nothing hidden: {failed}"


def test_correct_entries_that_claim_it_schedule_differently_from_the_reference() -> None:
    claimed = _claims(ANOTHER_SCHEDULE)
    assert claimed, "no entry claims another schedule"
    questions = sorted({(e.assignment, e.question) for e in claimed})
    graded = _in_children([(e, True) for e in claimed] + [(q, True) for q in questions])
    mine, references = graded[:len(claimed)], dict(zip(questions, graded[len(claimed):],
                                                       strict=True))
    problems = []
    for e, outcomes in zip(claimed, mine, strict=True):
        reference = references[(e.assignment, e.question)]
        if not all(o.passed for o in outcomes):
            problems.append(f"{e.name} fails: {[o.message for o in outcomes if not o.passed]}")
        elif [o.schedules for o in outcomes] == [o.schedules for o in reference]:
            problems.append(f"{e.assignment}/{e.question}/{e.name} has the reference's schedule "
                            "in every graded run")
    assert not problems, "\n".join(problems)
