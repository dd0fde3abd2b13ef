# expect: 0
# mistake: forgets queue.task_done(), so queue.join() waits for ever
# feedback: every task is waiting
async def run_workers(jobs: dict[str, float], workers: int) -> dict[str, str]:
    queue: asyncio.Queue = asyncio.Queue()
    for item in jobs.items():
        queue.put_nowait(item)
    results = {}

    async def worker() -> None:
        while True:
            job, seconds = await queue.get()
            results[job] = await work(job, seconds)

    tasks = [asyncio.create_task(worker()) for _ in range(workers)]
    await queue.join()
    for task in tasks:
        task.cancel()
    return results
