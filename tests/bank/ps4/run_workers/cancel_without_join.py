# expect: 0
# mistake: cancels the workers right after starting them, without waiting for queue.join()
# feedback: every job done before the workers stop
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

    tasks = [asyncio.create_task(worker()) for _ in range(workers)]
    await asyncio.sleep(0)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    return results
