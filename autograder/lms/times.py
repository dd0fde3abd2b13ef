"""Submission times: from the LMS, beside a download, into nbgrader's ``timestamp.txt``.

A download's file names say whose file it is, not when it was submitted (Canvas's only say
``LATE``), so the times travel in a file of their own inside the download folder,
``.submission-times.json``, written by ``python -m autograder fetch`` from Canvas's
``submitted_at``. Its name starts with a dot, so a download's listing skips it
(`autograder.lms.naming.list_download`). ``grade --submissions`` reads it and writes each
learner's time into ``submitted/<student>/<assignment>/timestamp.txt`` as ``nbgrader collect``
does, so nbgrader's late handling (``AssignLatePenalties`` and its ``late_submission_penalty``
plugin) and every export see it.

Written by hand: no library carries LMS times into nbgrader.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path

from autograder.lms.naming import LearnerKey

__all__ = ["TIMES_FILE", "TimesError", "nbgrader_timestamp", "read_times", "write_times"]

TIMES_FILE = ".submission-times.json"


class TimesError(ValueError):
    """A times file that cannot be read; the message says which and why."""


def nbgrader_timestamp(when: datetime) -> str:
    """``timestamp.txt``'s text as ``nbgrader collect`` writes it (UTC, microseconds)."""
    if when.tzinfo is None:
        raise ValueError("a submission time needs its timezone (the LMS gives UTC)")
    return when.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f UTC")


def write_times(folder: Path, times: Mapping[LearnerKey, datetime]) -> Path:
    """Write (whole, replacing) the times file of a download folder; returns its path."""
    data = {"format": 1, "times": {f"{key.lms}:{key.user_id}": when.astimezone(UTC).isoformat()
                                   for key, when in sorted(times.items())}}
    path = folder / TIMES_FILE
    tmp = folder / f"{TIMES_FILE}.tmp"
    tmp.write_text(json.dumps(data, indent=1), encoding="utf-8")
    os.replace(tmp, path)
    return path


def read_times(folder: Path) -> dict[LearnerKey, datetime]:
    """The times of a download folder ({} when it has no times file)."""
    path = folder / TIMES_FILE
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        times = {}
        for key, value in data["times"].items():
            lms, _, user_id = str(key).partition(":")
            if lms not in ("canvas", "moodle") or not user_id.isdigit():
                raise ValueError(f"{key!r} is not an LMS learner")
            when = datetime.fromisoformat(str(value))
            if when.tzinfo is None:
                raise ValueError(f"{value!r} has no timezone")
            times[LearnerKey(lms, user_id)] = when  # type: ignore[arg-type]
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as err:
        raise TimesError(f"{path} is not a submission-times file ({err}): fetch the "
                         "submissions again, or delete it to grade without times") from err
    return times
