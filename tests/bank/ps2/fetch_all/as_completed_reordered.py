# expect: full
# style: as_completed
async def fetch_all(delays: list[float]) -> list[float]:
    """Collect results as they finish, then put them back in input order."""
    async def numbered(i: int, d: float) -> tuple[int, float]:
        return i, await fetch(d)

    results = [0.0] * len(delays)
    for next_done in asyncio.as_completed([numbered(i, d) for i, d in enumerate(delays)]):
        i, value = await next_done
        results[i] = value
    return results
