"""A hostile learner's feedback, opened in Chromium as the learner (or an instructor) opens it:
nothing of what the learner wrote runs.

The learner's notebook carries scripts and event handlers in a Markdown cell, in a
``display(HTML(...))`` and in the values its answer returns (which the failure message quotes).
The class command grades it in the sandbox and writes nbgrader's feedback; the page then loads
in headless Chromium, where every payload would change the page's title or open a dialog.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import hostile
from tests.support.course import Course
from tests.support.paths import tool_env

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

PAYLOADS = [
    "<script>document.title='pwned'</script>",
    "<img src=x onerror=\"document.title='pwned'\">",
    "<svg onload=\"alert('pwned')\"></svg>",
]


@pytest.fixture(scope="module")
def feedback(tmp_path_factory: pytest.TempPathFactory) -> Path:
    course = Course.create(tmp_path_factory.mktemp("xss") / "course", ["ps2"])
    case = next(c for c in hostile.cases() if c.name == "script-in-feedback")
    recipe = dict(case.recipe)
    recipe["insert"] = [*recipe["insert"], {"after": "fetch_all", "cell_type": "markdown",
                                            "source": " ".join(PAYLOADS)}]
    hostile.submit(course, hostile.Case("learner", recipe))
    done = subprocess.run([sys.executable, "-m", "autograder", "grade", "ps2", "--quiet",
                           "--feedback", "--no-canary"], cwd=course.root, env=tool_env(),
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    return course.root / "feedback" / "learner" / "ps2" / "ps2.html"


def test_nothing_the_learner_wrote_runs_in_the_readers_browser(
        browser, feedback: Path) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context()
    page = context.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.goto(feedback.as_uri(), wait_until="load")
    page.wait_for_timeout(1000)  # handlers of images that fail to load fire after "load"
    assert page.title() != "pwned" and dialogs == []
    assert "fetch_all" in page.content()  # the learner's page, rendered
    context.close()
