# expect: 0
# mistake: awaits the fetches in list order and returns the first one's result, not the fastest
# feedback: should give 10.0
async def first_or_none(delays: list[float], timeout: float) -> float | None:
    for d in delays:
        try:
            return await asyncio.wait_for(fetch(d), timeout)
        except TimeoutError:
            return None
    return None
