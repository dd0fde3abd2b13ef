"""Class grading: ``python -m autograder grade <assignment>`` (see ``cli.py`` for the pipeline)."""
