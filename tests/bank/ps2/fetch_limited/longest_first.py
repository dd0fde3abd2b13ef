# expect: full
# style: Semaphore, longest fetch first
# proves: another schedule
async def fetch_limited(delays: list[float], limit: int) -> list[float]:
    """Start the longest fetches first (any order keeps the rules): tasks made in that order."""
    semaphore = asyncio.Semaphore(limit)
    results = [0.0] * len(delays)

    async def one(i: int) -> None:
        async with semaphore:
            results[i] = await fetch(delays[i])

    order = sorted(range(len(delays)), key=lambda i: -delays[i])
    await asyncio.gather(*(one(i) for i in order))
    return results
