# expect: 1
# mistake: fetches in batches of `limit` and waits for the whole batch, leaving slots idle
# feedback: it should take 5.0 s
async def fetch_limited(delays: list[float], limit: int) -> list[float]:
    results: list[float] = []
    for start in range(0, len(delays), limit):
        batch = delays[start:start + limit]
        results += await asyncio.gather(*(fetch(d) for d in batch))
    return results
