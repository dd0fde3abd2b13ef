"""Course `Execute` settings become the same `Limits` for every backend, or a clear refusal."""

from __future__ import annotations

import pytest

from autograder.execution import Limits, UnsupportedSetting, limits_from_course


def test_the_cell_timeout_and_startup_timeout_are_honoured() -> None:
    limits = limits_from_course({"Execute": {"timeout": 30, "startup_timeout": 90}})
    assert (limits.cell_timeout, limits.startup_timeout) == (30.0, 90.0)
    assert limits_from_course({}) == Limits()


def test_no_cell_timeout_leaves_only_the_total_limit() -> None:
    assert limits_from_course({"Execute": {"timeout": None}}).cell_timeout == Limits().total_timeout


def test_the_most_specific_section_wins() -> None:
    cfg = {"NotebookClient": {"timeout": 5}, "ExecutePreprocessor": {"timeout": 7},
           "Execute": {"timeout": 9}}
    assert limits_from_course(cfg).cell_timeout == 9.0


def test_cosmetic_settings_and_defaults_are_accepted() -> None:
    cfg = {"Execute": {"record_timing": True, "allow_errors": True, "kernel_name": "python3",
                       "interrupt_on_timeout": True}}
    assert limits_from_course(cfg) == Limits()


@pytest.mark.parametrize(("setting", "value", "words"), [
    ("kernel_name", "ir", "python3 kernel"),
    ("allow_errors", False, "nbgrader's default"),
    ("execute_retries", 2, "never a grade"),
    ("frobnicate", 1, "not a setting the class command knows"),
])
def test_a_setting_that_cannot_be_honoured_is_refused(setting: str, value: object,
                                                      words: str) -> None:
    with pytest.raises(UnsupportedSetting, match=words) as err:
        limits_from_course({"Execute": {setting: value}})
    assert f"Execute.{setting}" in str(err.value)


def test_limits_must_be_positive() -> None:
    with pytest.raises(ValueError, match=r"Limits\.cpu_seconds must be positive"):
        Limits(cpu_seconds=0)
