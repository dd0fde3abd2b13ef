# expect: full
# style: cancel the workers after queue.join()
async def run_workers(jobs: dict[str, float], workers: int) -> dict[str, str]:
    queue: asyncio.Queue = asyncio.Queue()
    for item in jobs.items():
        await queue.put(item)
    results: dict[str, str] = {}

    async def worker() -> None:
        while True:
            job, seconds = await queue.get()
            try:
                results[job] = await work(job, seconds)
            finally:
                queue.task_done()

    tasks = [asyncio.create_task(worker()) for _ in range(workers)]
    await queue.join()
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    return results
