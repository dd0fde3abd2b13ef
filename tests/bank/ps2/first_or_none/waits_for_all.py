# expect: 0
# mistake: waits for every fetch to finish and then picks the quickest one's result
# feedback: it should take 1.0 s
async def first_or_none(delays: list[float], timeout: float) -> float | None:
    try:
        results = await asyncio.wait_for(asyncio.gather(*(fetch(d) for d in delays)), timeout)
    except TimeoutError:
        return None
    return results[delays.index(min(delays))]
