"""What the tests and benchmarks share: repository paths, a throwaway nbgrader course, generated
classes of learners and the hostile corpus. Test fixtures only: nothing here ships with
``autograder`` or ``asyncourse``."""
