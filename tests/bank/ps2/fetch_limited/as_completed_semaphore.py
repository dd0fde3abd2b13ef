# expect: full
# style: as_completed over semaphore-guarded coroutines
async def fetch_limited(delays: list[float], limit: int) -> list[float]:
    """as_completed puts the coroutines in a set, so they start in an order of its choosing."""
    semaphore = asyncio.Semaphore(limit)

    async def one(i: int, d: float) -> tuple[int, float]:
        async with semaphore:
            return i, await fetch(d)

    results = [0.0] * len(delays)
    for next_done in asyncio.as_completed([one(i, d) for i, d in enumerate(delays)]):
        i, value = await next_done
        results[i] = value
    return results
