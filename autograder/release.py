"""Regenerate the student versions: ``python -m autograder.release [ASSIGNMENT...]``.

nbgrader's own ``generate_assignment`` does the work (locking cells, clearing solutions and hidden
tests, checksums); this wrapper only runs it for every assignment in ``source/``, strips what
nbgrader leaves behind (see ``autograder.strip``) and can generate into a scratch folder, which
``tests/test_release.py`` uses to check that the committed ``release/`` is up to date.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from autograder.strip import notebook_paths, strip_file


def assignments(source: Path) -> list[str]:
    """Names of the assignments in ``source`` (folders holding at least one notebook)."""
    return sorted(
        p.name for p in source.iterdir() if p.is_dir() and any(p.glob("*.ipynb"))
    ) if source.is_dir() else []


def tool_env() -> dict[str, str]:
    """The environment for nbgrader: this interpreter's ``bin/`` first on PATH.

    nbgrader runs ``alembic`` (its database migrations) by name, which fails when the virtualenv
    is used without being activated, as ``make test`` does.
    """
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([os.path.dirname(sys.executable), env.get("PATH", "")])
    return env


def run_nbgrader(*args: str, cwd: Path, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run ``nbgrader ARGS`` with this interpreter in ``cwd``.

    With ``check`` a failure raises RuntimeError carrying nbgrader's log.
    """
    done = subprocess.run(
        [sys.executable, "-m", "nbgrader", *args],
        cwd=cwd,
        env=tool_env(),
        capture_output=True,
        text=True,
        check=False,
    )
    if check and done.returncode != 0:
        raise RuntimeError(
            f"`nbgrader {' '.join(args)}` failed (exit {done.returncode}):\n"
            f"{done.stdout}{done.stderr}"
        )
    return done


def _strip_tree(folder: Path) -> None:
    for notebook in notebook_paths([folder]):
        strip_file(notebook)


def release_in_place(course: Path, assignment: str) -> Path:
    """Regenerate ``release/<assignment>/`` of ``course`` with its nbgrader_config.py.

    The assignment is (re)registered in the course's ``gradebook.db``, exactly as a plain
    ``nbgrader generate_assignment`` would, so ``nbgrader autograde`` works next.
    """
    run_nbgrader("generate_assignment", assignment, "--force", cwd=course)
    _strip_tree(course / "release" / assignment)
    return course / "release" / assignment


def generate_release(assignment: str, dest_root: Path, *, source_root: Path) -> Path:
    """Generate the student version of ``assignment`` into ``dest_root/<assignment>/``.

    Works in a scratch course with its own gradebook, so neither ``release/`` nor the
    instructor's ``gradebook.db`` is touched. An existing ``dest_root/<assignment>`` is replaced.
    Returns the generated folder.
    """
    source = source_root / assignment
    if not source.is_dir():
        raise ValueError(f"no assignment {assignment!r}: {source} is not a folder")
    with tempfile.TemporaryDirectory(prefix="release-") as tmp:
        course = Path(tmp)
        shutil.copytree(
            source,
            course / "source" / assignment,
            ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"),
        )
        run_nbgrader(
            "generate_assignment",
            assignment,
            "--force",
            f"--CourseDirectory.root={course}",
            f"--CourseDirectory.db_url=sqlite:///{course / 'gradebook.db'}",
            cwd=course,
        )
        generated = course / "release" / assignment
        _strip_tree(generated)
        dest = Path(dest_root) / assignment
        if dest.exists():
            shutil.rmtree(dest)
        shutil.copytree(generated, dest)
    return dest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m autograder.release", description=__doc__)
    parser.add_argument("assignments", nargs="*", help="default: every assignment in source/")
    parser.add_argument("--course", type=Path, default=Path.cwd(),
                        help="course root holding nbgrader_config.py (default: current folder)")
    args = parser.parse_args(argv)
    course = args.course.resolve()
    if not (course / "nbgrader_config.py").is_file():
        parser.error(f"no nbgrader_config.py in {course}: run it from the course root or pass "
                     "--course")
    known = assignments(course / "source")
    unknown = [a for a in args.assignments if a not in known]
    if unknown:
        parser.error(f"not in source/: {', '.join(unknown)} (known: {', '.join(known) or 'none'})")
    for assignment in args.assignments or known:
        print(f"released {release_in_place(course, assignment).relative_to(course)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
