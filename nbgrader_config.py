"""nbgrader configuration for the course; used by instructors and by the tests alike.

Run every nbgrader command from the repository root: ``nbgrader generate_assignment ps1``,
``nbgrader autograde ps1``, ``nbgrader generate_feedback ps1``, ``nbgrader export``.
"""

import os

from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor
from nbgrader.preprocessors import ClearHiddenTests, GetGrades

c = get_config()  # type: ignore[name-defined]  # noqa: F821

_root = os.path.dirname(os.path.abspath(__file__))

c.CourseDirectory.course_id = "async-python"
c.CourseDirectory.root = _root
c.CourseDirectory.source_directory = "source"
c.CourseDirectory.release_directory = "release"
c.CourseDirectory.submitted_directory = "submitted"
c.CourseDirectory.autograded_directory = "autograded"
c.CourseDirectory.feedback_directory = "feedback"
c.CourseDirectory.db_url = "sqlite:///" + os.path.join(_root, "gradebook.db")

# The local exchange lets a learner on their own machine see the assignment list.
c.Exchange.root = os.path.join(_root, ".exchange")
# nbgrader creates the exchange only on the first release, and until then the Assignment List
# and the formgrader show "The exchange directory does not exist" (and the formgrader hides its
# Release buttons, so it could never be created from the browser): create it up front.
os.makedirs(c.Exchange.root, exist_ok=True)

# The stub a learner sees where a solution was.
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"

# Restore a grading cell a learner deleted, instead of silently scoring it 0.
c.OverwriteCells.add_missing_cells = True
# Each cell gets this long (seconds of wall time) before the kernel is interrupted.
# Timing is graded in virtual time, so this only stops runaway code.
c.Execute.timeout = 60

# Feedback shows each test cell's source: without ClearHiddenTests it would print the hidden tests
# (inputs a learner could then special-case). nbgrader's default is [GetGrades,
# CSSHTMLHeaderPreprocessor]; the failure messages of the grading helpers name the mistake
# without the test code, so nothing the learner needs is lost.
c.GenerateFeedback.preprocessors = [GetGrades, ClearHiddenTests, CSSHTMLHeaderPreprocessor]
