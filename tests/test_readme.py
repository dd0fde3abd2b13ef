"""The README's examples of the helper package run, in order, as one program."""

from __future__ import annotations

import re
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

README = Path(__file__).resolve().parent.parent / "README.md"


def test_helper_package_examples_run() -> None:
    text = README.read_text(encoding="utf-8")
    section = text.split("## The helper package", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```python\n(.*?)```", section, flags=re.S)
    assert len(blocks) >= 4, "the helper package section lost its examples"
    namespace: dict[str, object] = {"__name__": "readme"}
    for number, block in enumerate(blocks, 1):
        exec(compile(block, f"README.md example {number}", "exec"), namespace)
