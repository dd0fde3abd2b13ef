# expect: full
# style: class
class Limiter:
    """Runs coroutines, never more than `limit` at the same time."""

    def __init__(self, limit: int) -> None:
        self._slots = asyncio.Semaphore(limit)

    async def run(self, coro):
        async with self._slots:
            return await coro


async def fetch_limited(delays: list[float], limit: int) -> list[float]:
    limiter = Limiter(limit)
    tasks = [asyncio.create_task(limiter.run(fetch(d))) for d in delays]
    return [await t for t in tasks]
