# expect: 0
# mistake: each worker does a single job and returns, so join() waits for jobs nobody takes
# feedback: every task is waiting
async def run_workers(jobs: dict[str, float], workers: int) -> dict[str, str]:
    queue: asyncio.Queue = asyncio.Queue()
    for item in jobs.items():
        queue.put_nowait(item)
    results = {}

    async def worker() -> None:
        job, seconds = await queue.get()
        results[job] = await work(job, seconds)
        queue.task_done()

    for _ in range(workers):
        asyncio.create_task(worker())
    await queue.join()
    return results
