# expect: full
# style: worker pool with a Queue
async def fetch_limited(delays: list[float], limit: int) -> list[float]:
    """`limit` workers take the next delay from a queue as soon as they are free."""
    queue: asyncio.Queue[tuple[int, float]] = asyncio.Queue()
    for job in enumerate(delays):
        queue.put_nowait(job)
    results = [0.0] * len(delays)

    async def worker() -> None:
        while not queue.empty():
            i, d = queue.get_nowait()
            results[i] = await fetch(d)

    await asyncio.gather(*(worker() for _ in range(limit)))
    return results
