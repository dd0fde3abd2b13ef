# expect: 0
# mistake: waits for queue.join() but leaves the workers waiting on an empty queue for ever
# feedback: was still running
async def run_workers(jobs: dict[str, float], workers: int) -> dict[str, str]:
    queue: asyncio.Queue = asyncio.Queue()
    for item in jobs.items():
        queue.put_nowait(item)
    results = {}

    async def worker() -> None:
        while True:
            job, seconds = await queue.get()
            results[job] = await work(job, seconds)
            queue.task_done()

    for _ in range(workers):
        asyncio.create_task(worker())
    await queue.join()
    return results
