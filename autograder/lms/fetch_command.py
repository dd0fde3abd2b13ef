"""``python -m autograder fetch``: the module ``autograder/__main__.py`` runs (see ``cli.py``;
``__main__`` takes one module per command, so each command has its own)."""

from autograder.lms.cli import fetch_main as main

__all__ = ["main"]
