# expect: full
# style: PriorityQueue, longest job first
# proves: another schedule
async def run_workers(jobs: dict[str, float], workers: int) -> dict[str, str]:
    """The longest jobs first (any order keeps the rules); cancel the workers after join()."""
    queue: asyncio.PriorityQueue[tuple[float, str]] = asyncio.PriorityQueue()
    for job, seconds in jobs.items():
        queue.put_nowait((-seconds, job))
    results: dict[str, str] = {}

    async def worker() -> None:
        while True:
            minus_seconds, job = await queue.get()
            results[job] = await work(job, -minus_seconds)
            queue.task_done()

    tasks = [asyncio.create_task(worker()) for _ in range(workers)]
    await queue.join()
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    return results
