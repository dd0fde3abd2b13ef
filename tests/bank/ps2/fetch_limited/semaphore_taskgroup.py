# expect: full
# style: Semaphore and TaskGroup
async def fetch_limited(delays: list[float], limit: int) -> list[float]:
    """A TaskGroup starts every task; the semaphore lets `limit` of them fetch at once."""
    semaphore = asyncio.Semaphore(limit)
    results = [0.0] * len(delays)

    async def one(i: int, d: float) -> None:
        await semaphore.acquire()
        try:
            results[i] = await fetch(d)
        finally:
            semaphore.release()

    async with asyncio.TaskGroup() as tg:
        for i, d in enumerate(delays):
            tg.create_task(one(i, d))
    return results
