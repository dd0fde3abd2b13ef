# expect: full
# style: Semaphore and gather
async def fetch_limited(delays: list[float], limit: int) -> list[float]:
    """Fetch every delay, at most `limit` at a time; return the results in input order."""
    gate = asyncio.Semaphore(limit)

    async def polite_fetch(d: float) -> float:
        async with gate:
            return await fetch(d)

    return list(await asyncio.gather(*[polite_fetch(d) for d in delays]))
