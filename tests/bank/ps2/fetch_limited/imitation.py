# expect: 0
# mistake: imitates the results and the time without fetching: sleeps as long as the schedule would take and computes each result from its delay
# feedback: never called `fetch`
async def fetch_limited(delays: list[float], limit: int) -> list[float]:
    ends = [0.0] * limit
    for d in delays:
        ends[ends.index(min(ends))] += d
    await asyncio.sleep(max(ends, default=0.0))
    return [d * 10 for d in delays]
