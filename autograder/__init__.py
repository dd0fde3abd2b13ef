"""Grading tooling for the course, run from the repository root as ``python -m autograder.<tool>``.

Kept out of the installed helper package (``src/asyncourse``): learners import ``asyncourse``;
only instructors and the tests need ``release``, ``strip`` and the temp-course helpers here.
"""
