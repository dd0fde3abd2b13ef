# expect: 0
# mistake: imitates the answer without fetching: sleeps for the shortest delay (or the timeout) and computes the result from it
# feedback: never called `fetch`
async def first_or_none(delays: list[float], timeout: float) -> float | None:
    quickest = min(delays)
    if quickest > timeout:
        await asyncio.sleep(timeout)
        return None
    await asyncio.sleep(quickest)
    return quickest * 10
