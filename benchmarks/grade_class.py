"""Benchmark: grade a generated class with plain `nbgrader autograde` and with the class command.

    python -m benchmarks.grade_class                 # N=200: both, grades compared, ratio
    python -m benchmarks.grade_class --n 50          # smaller
    python -m benchmarks.grade_class --sizes 50,200,800   # class command only: time and memory

Prints wall times, their ratio, submissions/s, peak memory (the whole process tree: command,
workers and kernels, sampled every 50 ms), and the per-submission cost against the floor: one bare
nbclient execution of the same notebook in a fresh kernel. The class is `tests.support.fakeclass`:
ps1 answered as learners do (reference solutions, the proof bank's right and wrong answers,
blank questions). Run from the repository root: `python -m benchmarks.grade_class`.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil
from nbclient import NotebookClient
from nbgrader.api import Gradebook

from tests.support import fakeclass
from tests.support.course import Course

REPO = Path(__file__).resolve().parents[1]


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def timed(cmd: list[str], cwd: Path) -> tuple[float, int, float]:
    """Run `cmd`; return (wall seconds, peak RSS in bytes of its whole process tree, CPU seconds
    of the tree). CPU time does not grow when other work shares the machine; wall time does."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, env=_env(), stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    peak = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        root = psutil.Process(proc.pid)
        while not done.is_set():
            try:
                procs = [root, *root.children(recursive=True)]
                peak = max(peak, sum(_rss(p) for p in procs))
            except psutil.NoSuchProcess:
                pass
            time.sleep(0.05)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    out, _ = proc.communicate()
    done.set()
    thread.join()
    seconds = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    if proc.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed:\n{out[-3000:]}")
    return seconds, peak, cpu


def _rss(p: psutil.Process) -> int:
    try:
        return int(p.memory_info().rss)
    except psutil.Error:
        return 0


def scores(course: Path) -> dict[str, dict[str, float | None]]:
    out: dict[str, dict[str, float | None]] = {}
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", "async-python") as gb:
        for sub in gb.find_assignment(fakeclass.ASSIGNMENT).submissions:
            out[sub.student.id] = {g.name: g.score for nb in sub.notebooks for g in nb.grades}
    return out


def floor_seconds(course: Course, runs: int = 5) -> float:
    """One bare nbclient execution (fresh kernel) of a correct answer: the per-learner floor."""
    nb = fakeclass.answer(course, fakeclass.Learner("floor", "reference"))
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        NotebookClient(nb, timeout=60, allow_errors=True, kernel_name="python3").execute()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def make_class(root: Path, n: int) -> Course:
    return fakeclass.course_with_class(root, n)


def grade_cmd(workers: int | None, sandbox: bool) -> list[str]:
    cmd = [sys.executable, "-m", "autograder", "grade", fakeclass.ASSIGNMENT, "--quiet"]
    cmd += [] if sandbox else ["--no-sandbox"]
    return cmd + (["--workers", str(workers)] if workers else [])


def compare(n: int, workers: int | None, keep: bool, modes: list[bool]) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="grade-bench-"))
    try:
        plain_course = make_class(tmp / "plain", n)
        plain = plain_course.root
        for sandbox in modes:
            shutil.copytree(plain, tmp / _label(sandbox))
        floor = floor_seconds(plain_course)
        print(f"{n} submissions, {os.cpu_count()} cores; floor (bare nbclient, fresh kernel): "
              f"{floor:.2f} s per notebook", flush=True)
        t_plain, m_plain, c_plain = timed([sys.executable, "-m", "nbgrader", "autograde",
                                           fakeclass.ASSIGNMENT], plain)
        print(f"{'nbgrader autograde (sequential):':<32} {t_plain:7.1f} s  "
              f"{n / t_plain:5.2f} sub/s  {t_plain / n:.3f} s/sub  CPU {c_plain / n:.2f} s/sub  "
              f"peak {m_plain / 2**20:.0f} MB", flush=True)
        a = scores(plain)
        for sandbox in modes:
            fast = tmp / _label(sandbox)
            t_fast, m_fast, c_fast = timed(grade_cmd(workers, sandbox), fast)
            print(f"{'autograder grade, ' + _label(sandbox) + ':':<32} {t_fast:7.1f} s  "
                  f"{n / t_fast:5.2f} sub/s  {t_fast / n:.3f} s/sub  CPU {c_fast / n:.2f} s/sub  "
                  f"peak {m_fast / 2**20:.0f} MB", flush=True)
            b = scores(fast)
            same = a == b
            print(f"  ratio {t_plain / t_fast:.2f}x wall, {c_plain / c_fast:.2f}x CPU; "
                  f"per submission {t_fast / n:.3f} s = {t_fast / n / floor:.2f} x the floor "
                  f"({floor:.2f} s); grades identical: {same}", flush=True)
            if not same:
                diff = [s for s in sorted(set(a) | set(b)) if a.get(s) != b.get(s)]
                print("differ:", {s: (a.get(s), b.get(s)) for s in diff[:10]})
                sys.exit(1)
    finally:
        if keep:
            print("kept", tmp)
        else:
            shutil.rmtree(tmp, ignore_errors=True)


def _label(sandbox: bool) -> str:
    return "sandbox" if sandbox else "no-sandbox"


def sizes(ns: list[int], workers: int | None, sandbox: bool) -> None:
    print(f"{'N':>6} {'wall s':>8} {'sub/s':>7} {'s/sub':>7} {'CPU/sub':>7} {'peak MB':>8}")
    for n in ns:
        tmp = Path(tempfile.mkdtemp(prefix="grade-bench-"))
        try:
            course = make_class(tmp / "class", n)
            seconds, peak, cpu = timed(grade_cmd(workers, sandbox), course.root)
            print(f"{n:6d} {seconds:8.1f} {n / seconds:7.2f} {seconds / n:7.3f} "
                  f"{cpu / n:7.2f} {peak / 2**20:8.0f}", flush=True)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--n", type=int, default=200, help="class size for the comparison")
    p.add_argument("--sizes", default="", help="comma-separated class sizes: class command only")
    p.add_argument("--workers", type=int, default=None)
    p.add_argument("--keep", action="store_true", help="keep the generated courses")
    p.add_argument("--modes", default="sandbox,no-sandbox",
                   help="class-command modes to time: sandbox, no-sandbox or both")
    args = p.parse_args()
    modes = [m.strip() == "sandbox" for m in args.modes.split(",") if m.strip()]
    if args.sizes:
        sizes([int(x) for x in args.sizes.split(",")], args.workers, modes[0])
    else:
        compare(args.n, args.workers, args.keep, modes)


if __name__ == "__main__":
    main()
