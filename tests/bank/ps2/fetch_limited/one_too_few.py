# expect: 1
# mistake: the semaphore allows one fetch too few (Semaphore(limit - 1))
# feedback: sat idle while
async def fetch_limited(delays: list[float], limit: int) -> list[float]:
    semaphore = asyncio.Semaphore(limit - 1)

    async def one(d: float) -> float:
        async with semaphore:
            return await fetch(d)

    return list(await asyncio.gather(*(one(d) for d in delays)))
