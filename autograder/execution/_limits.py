"""What one notebook run may use, and which of the course's `Execute` settings the backends honour.

Both backends (the local runner and the sandbox) take the same `Limits`, built from the course's
nbgrader configuration by `limits_from_course`, so a course setting means the same thing whichever
way a class is graded. A setting neither backend can honour is refused with a sentence instead of
being ignored.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["Limits", "UnsupportedSetting", "limits_from_course"]


@dataclass(frozen=True)
class Limits:
    """Per-notebook limits; the defaults suit one asyncio exercise notebook."""

    cell_timeout: float = 60.0  # wall seconds per cell (then SIGINT, then kill): Execute.timeout
    total_timeout: float = 300.0  # wall seconds for all cells (the kernel start not included)
    startup_timeout: float = 60.0  # wall seconds for the kernel to answer: Execute.startup_timeout
    cpu_seconds: int = 120  # CPU seconds of the kernel process
    memory_bytes: int = 1 << 30  # address space per process
    max_processes: int = 64  # processes + threads of the kernel's uid
    max_open_files: int = 256
    max_output_bytes: int = 1 << 20  # per cell; longer output is truncated with a note
    max_file_bytes: int = 64 << 20  # largest file the kernel may write
    sandbox_memory_bytes: int = 1536 << 20  # all processes of one sandbox together (cgroup)
    scratch_bytes: int = 256 << 20  # the kernel's working folder (a tmpfs of its own)
    scratch_files: int = 20_000  # files and folders in it (the tmpfs's inodes)

    def __post_init__(self) -> None:
        for field in dataclasses.fields(self):
            if not getattr(self, field.name) > 0:
                raise ValueError(f"Limits.{field.name} must be positive")


class UnsupportedSetting(ValueError):
    """A course `Execute` setting the class command cannot honour (the message says which)."""


# Settings that only change how nbclient reports or stores things, never a score.
_COSMETIC = frozenset({
    "record_timing", "store_widget_state", "shutdown_kernel", "ipython_hist_file",
    "raise_on_iopub_timeout", "iopub_timeout", "display_data_priority", "coalesce_streams",
    "error_on_timeout", "log_level", "kernel_manager_class",
})  # fmt: skip
# Settings whose only value the grader can honour is nbgrader's default.
_FIXED: dict[str, Any] = {
    "allow_errors": True,
    "interrupt_on_timeout": True,
    "kernel_name": ("", "python3"),
    "extra_arguments": [],
    "execute_retries": 0,
    "force_raise_errors": False,
    "skip_cells_with_tag": "skip-execution",
    "allow_error_names": [],
}
_WHY = {
    "kernel_name": "every notebook runs in the python3 kernel of the grading environment",
    "extra_arguments": "the grader starts the kernel with its own arguments",
    "execute_retries": "a failure of the grading machinery is never a grade: the class command "
                       "leaves it for the next run",
}


def limits_from_course(config: Mapping[str, Mapping[str, Any]], base: Limits = Limits()) -> Limits:
    """`base` with the course's `Execute` (and `ExecutePreprocessor`, `NotebookClient`) settings.

    `config` is ``{"Execute": {...}, ...}`` as nbgrader's config holds it. Honoured: ``timeout``
    (per cell; ``None`` or 0: only the total limit applies) and ``startup_timeout``. Raises
    `UnsupportedSetting` naming a setting with a value the grader cannot honour.
    """
    merged: dict[str, Any] = {}
    for section in ("NotebookClient", "ExecutePreprocessor", "Execute"):  # most specific last
        merged.update(config.get(section, {}))
    changes: dict[str, Any] = {}
    for name, value in merged.items():
        if name == "timeout":
            changes["cell_timeout"] = float(value) if value else base.total_timeout
        elif name == "startup_timeout":
            changes["startup_timeout"] = float(value)
        elif name in _COSMETIC:
            continue
        elif name in _FIXED:
            allowed = _FIXED[name]
            ok = value in allowed if isinstance(allowed, tuple) else value == allowed
            if not ok:
                why = _WHY.get(name, "the class command grades with nbgrader's default")
                raise UnsupportedSetting(
                    f"Execute.{name} = {value!r} in nbgrader_config.py cannot be honoured by the "
                    f"class command ({why}); remove it, or grade with `nbgrader autograde`")
        else:
            raise UnsupportedSetting(
                f"Execute.{name} in nbgrader_config.py is not a setting the class command knows; "
                "remove it, or grade with `nbgrader autograde`")
    return dataclasses.replace(base, **changes)
