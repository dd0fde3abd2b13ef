# expect: 1
# mistake: returns the first result but leaves the other fetches running
# feedback: still running
# feedback: cancel the fetches
async def first_or_none(delays: list[float], timeout: float) -> float | None:
    tasks = [asyncio.create_task(fetch(d)) for d in delays]
    done, _ = await asyncio.wait(tasks, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    return done.pop().result() if done else None
