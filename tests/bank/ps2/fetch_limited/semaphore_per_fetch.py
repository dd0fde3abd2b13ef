# expect: 1
# mistake: creates a new Semaphore inside each fetch, so every fetch has its own and none waits
# feedback: ran at the same time
async def fetch_limited(delays: list[float], limit: int) -> list[float]:
    async def one(d: float) -> float:
        async with asyncio.Semaphore(limit):
            return await fetch(d)

    return list(await asyncio.gather(*(one(d) for d in delays)))
