# expect: 1
# mistake: fetches in batches of `limit` and waits for the whole batch, leaving slots idle
# feedback: one of the 2 slots sat idle while `fetch(1.0)` was waiting to start
async def fetch_limited(delays: list[float], limit: int) -> list[float]:
    results: list[float] = []
    for start in range(0, len(delays), limit):
        batch = delays[start:start + limit]
        results += await asyncio.gather(*(fetch(d) for d in batch))
    return results
