# expect: full
# style: producer task feeding a bounded queue, sentinels
async def run_workers(jobs: dict[str, float], workers: int) -> dict[str, str]:
    """A producer fills a small queue while the workers drain it; None tells a worker to stop."""
    queue: asyncio.Queue = asyncio.Queue(maxsize=workers)
    results: dict[str, str] = {}

    async def producer() -> None:
        for job, seconds in jobs.items():
            await queue.put((job, seconds))
        for _ in range(workers):
            await queue.put(None)

    async def worker() -> None:
        while True:
            item = await queue.get()
            if item is None:
                return
            job, seconds = item
            results[job] = await work(job, seconds)

    await asyncio.gather(producer(), *(worker() for _ in range(workers)))
    return results
