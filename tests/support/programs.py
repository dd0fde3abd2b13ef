"""Generated asyncio programs, run in virtual time and on asyncio's own loop in real time.

A program is plain data (JSON), so a batch can be handed to a subprocess and a failing example
printed as is: ``{"pool": 2, "main": [step, ...]}``, where a step is a list such as
``["sleep", 3]``, ``["fan", "pool", 5, 2]`` (5 jobs of 2 units at once in the program's pool
of ``pool`` threads), ``["gather", [block, block], false]`` or ``["lock", 0, block]`` (see
``STEPS`` and ``Run.step``).
Delays are in *units*: 1 virtual second in a virtual run, ``REAL_UNIT`` real seconds in a real
one. One interpreter runs both, so any difference is asyncourse's. Every task logs
``[task, "step:kind"]`` after each of its steps (and what it caught): that log, the result and
the exception are what the two runs must agree on.

Where the two cannot agree by design, the generator and this module say so:

- thread *work* takes no virtual time, real time in a real run: threads here only sleep
  (``time.sleep`` in a thread is a virtual sleep), so their real duration is their delay;
- asyncio's default executor has ``min(32, os.cpu_count() + 4)`` threads, the virtual loop's a
  fixed ``VirtualEventLoop.default_workers``: the real run is given a pool of that size;
- in real time, two independent things due at nearly the same moment happen in either order.
  So events less than ``SEPARATION`` units apart (in the virtual run) may be logged in either
  order, and a program is compared only if that is all that changes when every delay is moved
  by up to ``SEPARATION / 2``: ``PERTURBED`` virtual runs with such jitter must give the same
  result and the same events as the exact one (a lock won by one task or the other, a timeout
  that fires or not, would change them: such a program is *ambiguous*, not compared);
- a program the virtual run ends with ``DeadlockError``, ``VirtualTimeLimit`` or
  ``BusyLoopError`` would hang or spin in real time: it is not run for real;
- what happens after ``main`` returns (``asyncio.run`` cancelling leftovers, in the order of a
  set) is not compared, and a program longer than ``LONGEST`` units is not run for real (the
  time budget of the test suite).

Worker: ``python -m tests.support.programs`` reads ``{"mode": "virtual" | "differential",
"programs": [...]}`` on stdin and writes one JSON outcome per program on stdout, each line as
soon as it is known, so that a watchdog that kills a hung worker knows which program hung.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import json
import math
import os
import random
import sys
import threading
import time
from collections.abc import Callable, Coroutine
from typing import Any

from asyncourse import RunError, VirtualEventLoop, run_virtual

#: Real seconds per unit in a real run.
REAL_UNIT = 0.025
#: Units apart two events must be (in virtual time) for their order to be compared.
SEPARATION = 2.0
#: Virtual runs with jittered delays that must agree with the exact one.
PERTURBED = 3
#: Longest program (in units) run for real: 2 real seconds, for the time budget of the suite.
LONGEST = 80.0
#: The virtual runs' limit, in units: "long" steps reach it.
LIMIT = 10_000.0
#: Loop rounds without the clock moving before BusyLoopError ("busy" steps reach it).
MAX_STEPS = 300
#: Real runs of a program that disagrees, before the disagreement counts (jitter is not a lie).
REAL_TRIES = 3

Step = list[Any]
Block = list[Step]

LEAVES = ("sleep", "thread", "pool", "fan", "block", "result", "join", "cst", "set", "waitev",
          "put", "get", "raise")
NESTS = ("gather", "group", "wait", "as_completed", "wait_for", "timeout", "lock", "sem",
         "cancel")
#: Shapes that must end with a named error (or a program error), never with a hang.
STUCK = ("forever", "busy", "long", "pooldeadlock", "loopdeadlock")
STEPS = LEAVES + NESTS + STUCK


class Boom(Exception):
    """The error a ``raise`` step raises."""


def describe(exc: BaseException) -> Any:
    """An exception as comparable data: type and message, a group's leaves sorted."""
    if isinstance(exc, BaseExceptionGroup):
        return [type(exc).__name__, sorted(json.dumps(describe(e)) for e in exc.exceptions)]
    return [type(exc).__name__, str(exc)]


class Run:
    """The state of one run of a program: its log, primitives and pools."""

    def __init__(self, program: dict[str, Any], unit: float,
                 jitter: random.Random | None = None) -> None:
        self.program = program
        self.unit = unit
        self.jitter = jitter
        self.log: list[list[str]] = []
        self.times: list[float] = []  # loop time of each log entry
        self.primitives: dict[tuple[str, int], Any] = {}
        self.pool = concurrent.futures.ThreadPoolExecutor(program.get("pool", 2))
        self.one = concurrent.futures.ThreadPoolExecutor(1)
        self.ended: int | None = None  # log length when main returned

    def seconds(self, units: float) -> float:
        """A delay in seconds, moved by up to SEPARATION / 2 units in a perturbed run."""
        if self.jitter is not None:
            units = max(0.1, units + self.jitter.uniform(-SEPARATION / 2, SEPARATION / 2))
        return units * self.unit

    def note(self, task: str, what: str) -> None:
        self.log.append([task, what])
        self.times.append(asyncio.get_running_loop().time())

    def primitive(self, kind: str, index: int) -> Any:
        key = (kind, index)
        if key not in self.primitives:
            make: dict[str, Callable[[], Any]] = {
                "lock": asyncio.Lock, "sem": lambda: asyncio.Semaphore(2),
                "event": asyncio.Event, "queue": lambda: asyncio.Queue(maxsize=1)}
            self.primitives[key] = make[kind]()
        return self.primitives[key]

    async def main(self) -> str:
        try:
            return await self.block("main", self.program["main"])
        finally:
            self.ended = len(self.log)

    async def block(self, name: str, steps: Block) -> str:
        for i, step in enumerate(steps):
            await self.step(name, i, step)
            self.note(name, f"{i}:{step[0]}")
        return name

    def children(self, name: str, i: int, blocks: list[Block]) -> list[Coroutine[Any, Any, str]]:
        return [self.block(f"{name}.{i}.{j}", b) for j, b in enumerate(blocks)]

    async def step(self, name: str, i: int, step: Step) -> None:
        kind, loop, seconds = step[0], asyncio.get_running_loop(), self.seconds
        if kind == "sleep":
            await asyncio.sleep(seconds(step[1]))
        elif kind in ("thread", "pool"):
            pool = None if kind == "thread" else self.pool
            await loop.run_in_executor(pool, time.sleep, seconds(step[1]))
        elif kind == "fan":  # n jobs at once: the pool queues those it has no thread for
            pool = None if step[1] == "thread" else self.pool
            await asyncio.gather(*(loop.run_in_executor(pool, time.sleep, seconds(step[3]))
                                   for _ in range(step[2])))
        elif kind == "block":  # a blocking call on the loop's thread
            time.sleep(seconds(step[1]))
        elif kind == "result":  # the loop's thread blocked until a job of the pool is done
            self.pool.submit(time.sleep, seconds(step[1])).result()
        elif kind == "join":  # the loop's thread blocked until a thread of our own ends
            thread = threading.Thread(target=time.sleep, args=(seconds(step[1]),))
            thread.start()
            thread.join()
        elif kind == "cst":  # a thread of our own resolves a future from outside the loop
            fut = loop.create_future()
            nap = seconds(step[1])

            def work() -> None:
                time.sleep(nap)
                with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
                    loop.call_soon_threadsafe(lambda: fut.done() or fut.set_result(None))

            threading.Thread(target=work, daemon=True).start()
            await fut
        elif kind == "set":
            self.primitive("event", step[1]).set()
        elif kind == "waitev":
            await self.primitive("event", step[1]).wait()
        elif kind == "put":
            await self.primitive("queue", step[1]).put(name)
        elif kind == "get":
            got = await self.primitive("queue", step[1]).get()
            self.note(name, f"got {got}")
        elif kind == "raise":
            raise Boom(name)
        elif kind == "gather":
            results = await asyncio.gather(*self.children(name, i, step[1]),
                                           return_exceptions=step[2])
            shown = [describe(r) if isinstance(r, BaseException) else r for r in results]
            self.note(name, f"gathered {json.dumps(shown)}")
        elif kind == "group":
            async with asyncio.TaskGroup() as group:
                for coro in self.children(name, i, step[1]):
                    group.create_task(coro)
        elif kind == "wait":
            await self.wait(name, i, step)
        elif kind == "as_completed":
            tasks = [asyncio.ensure_future(c) for c in self.children(name, i, step[1])]
            for next_done in asyncio.as_completed(tasks):
                try:
                    self.note(name, f"completed {await next_done}")
                except Boom as exc:
                    self.note(name, f"completed with {exc!r}")
        elif kind in ("wait_for", "timeout"):
            child = self.block(f"{name}.{i}.0", step[1])
            try:
                if kind == "wait_for":
                    await asyncio.wait_for(child, seconds(step[2]))
                else:
                    async with asyncio.timeout(seconds(step[2])):
                        await child
            except TimeoutError:
                self.note(name, "timed out")
        elif kind in ("lock", "sem"):
            async with self.primitive(kind, step[1]):
                await self.block(f"{name}.{i}.0", step[2])
        elif kind == "cancel":
            task = asyncio.ensure_future(self.block(f"{name}.{i}.0", step[1]))
            await asyncio.sleep(seconds(step[2]))
            task.cancel()
            try:
                await task
            except asyncio.CancelledError:
                current = asyncio.current_task()
                if current is not None and current.cancelling():
                    raise  # we are being cancelled ourselves
                self.note(name, "child cancelled")
        elif kind == "forever":
            await asyncio.Event().wait()
        elif kind == "busy":
            while True:
                await asyncio.sleep(0)
        elif kind == "long":
            await asyncio.sleep(LIMIT * 2 * self.unit)
        elif kind == "pooldeadlock":  # a job waits for a job queued behind it in a 1-thread pool
            one = self.one
            await loop.run_in_executor(one, lambda: one.submit(int).result())
        elif kind == "loopdeadlock":  # the same, the loop's own thread waiting for it
            one = self.one
            one.submit(lambda: one.submit(int).result()).result()
        else:
            raise ValueError(f"unknown step {kind!r}")

    async def wait(self, name: str, i: int, step: Step) -> None:
        names: dict[asyncio.Future[str], str] = {}
        for j, block in enumerate(step[1]):
            child = f"{name}.{i}.{j}"
            names[asyncio.ensure_future(self.block(child, block))] = child
        when = asyncio.FIRST_COMPLETED if step[2] == "first" else asyncio.ALL_COMPLETED
        done, pending = await asyncio.wait(list(names), return_when=when)
        for task in done:
            if not task.cancelled():
                task.exception()  # retrieved: no "never retrieved" noise
        self.note(name, f"waited {sorted(names[t] for t in done)}")
        for task in sorted(pending, key=lambda t: names[t]):
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)

    def close(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)
        self.one.shutdown(wait=False, cancel_futures=True)


def run_virtually(program: dict[str, Any], jitter: random.Random | None = None,
                  ) -> dict[str, Any]:
    """One virtual run: outcome, and log with virtual times up to main's end."""
    state = Run(program, 1.0, jitter)
    try:
        run = run_virtual(state.main, limit=LIMIT, max_steps=MAX_STEPS, raise_errors=False)
        outcome = _outcome(run.result, run.error)
    except BaseException as exc:  # run_virtual itself failed: never acceptable
        outcome = {"internal": repr(exc)}
    finally:
        state.close()
    end = state.ended if state.ended is not None else len(state.log)
    return {**outcome, "log": state.log[:end], "times": state.times[:end],
            "elapsed": run.elapsed if "internal" not in outcome else None}


def _outcome(result: Any, error: BaseException | None) -> dict[str, Any]:
    if error is None:
        return {"result": result}
    if isinstance(error, RunError):
        return {"run_error": type(error).__name__, "message": str(error)}
    return {"error": describe(error)}


def run_really(program: dict[str, Any]) -> dict[str, Any]:
    """One run on asyncio's own loop in real time (delays scaled), in this thread."""
    state = Run(program, REAL_UNIT)

    def new_loop() -> asyncio.AbstractEventLoop:
        loop = asyncio.new_event_loop()
        loop.set_exception_handler(lambda loop, context: None)  # "never retrieved": no noise
        loop.set_default_executor(concurrent.futures.ThreadPoolExecutor(
            VirtualEventLoop.default_workers))  # the virtual loop's fixed size, not the machine's
        return loop

    result: Any = None
    error: BaseException | None = None
    try:
        with asyncio.Runner(loop_factory=new_loop) as runner:
            result = runner.run(state.main())
    except BaseException as exc:  # the program's own error
        error = exc
    finally:
        state.close()
    end = state.ended if state.ended is not None else len(state.log)
    return {**_outcome(result, error), "log": state.log[:end]}


def run_really_concurrently(programs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Real runs side by side, each on its own loop in its own thread (they mostly sleep)."""
    outcomes: list[dict[str, Any]] = [{} for _ in programs]

    def one(k: int) -> None:
        outcomes[k] = run_really(programs[k])

    threads = [threading.Thread(target=one, args=(k,), daemon=True) for k in range(len(programs))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def agree(virtual: dict[str, Any], other: dict[str, Any]) -> str | None:
    """Why ``other`` (a real or perturbed run) disagrees with the exact virtual run (None: it
    agrees): the result or exception, the events logged, or the order of two events more than
    ``SEPARATION`` units apart in the virtual run."""
    for key in ("result", "error", "run_error"):
        if virtual.get(key) != other.get(key):
            return f"{key}: virtual {virtual.get(key)!r}, other {other.get(key)!r}"
    seen: dict[tuple[str, str], int] = {}
    when: dict[tuple[str, str, int], float] = {}
    for (task, what), t in zip(virtual["log"], virtual["times"], strict=True):
        n = seen[(task, what)] = seen.get((task, what), 0) + 1
        when[(task, what, n)] = t
    seen.clear()
    latest, latest_event = -math.inf, ""
    for task, what in other["log"]:
        n = seen[(task, what)] = seen.get((task, what), 0) + 1
        t = when.pop((task, what, n), None)
        if t is None:
            return f"the other run logged {task}: {what} (#{n}), the virtual run did not"
        if latest - t >= SEPARATION:
            return (f"order: the other run logged {latest_event} (virtual time {latest:g}) "
                    f"before {task}: {what} (virtual time {t:g})")
        if t > latest:
            latest, latest_event = t, f"{task}: {what}"
    if when:
        missing = min(when, key=lambda k: when[k])
        return f"the virtual run logged {missing[0]}: {missing[1]}, the other run did not"
    return None


def comparable(program: dict[str, Any], virtual: dict[str, Any]) -> bool:
    """Whether a real run can be compared with this virtual outcome (see the module)."""
    if "run_error" in virtual or "internal" in virtual or virtual["elapsed"] > LONGEST:
        return False
    seed = json.dumps(program, sort_keys=True)
    return all(agree(virtual, run_virtually(program, random.Random(f"{seed}/{k}"))) is None
               for k in range(PERTURBED))


def differential(programs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Virtual runs, then real runs of the comparable ones, side by side; rerun disagreements
    (a lie is reproducible, real-time jitter is not)."""
    virtual = [run_virtually(p) for p in programs]
    compared = [k for k, v in enumerate(virtual) if comparable(programs[k], v)]
    reasons: dict[int, str | None] = dict.fromkeys(compared)
    todo = compared
    for _ in range(REAL_TRIES):
        if not todo:
            break
        reals = run_really_concurrently([programs[k] for k in todo])
        for k, real in zip(todo, reals, strict=True):
            reasons[k] = agree(virtual[k], real)
        todo = [k for k in todo if reasons[k] is not None]
    return [{**v, "compared": k in reasons, "disagreement": reasons.get(k)}
            for k, v in enumerate(virtual)]


def main() -> None:
    batch = json.load(sys.stdin)
    programs = batch["programs"]
    if batch["mode"] == "virtual":
        for program in programs:
            outcome = run_virtually(program)
            print(json.dumps({k: v for k, v in outcome.items() if k not in ("log", "times")}),
                  flush=True)
    else:
        for outcome in differential(programs):
            print(json.dumps(outcome), flush=True)
    sys.stdout.flush()
    os._exit(0)  # threads a deadlocked program left blocked must not hold the process


if __name__ == "__main__":
    main()
