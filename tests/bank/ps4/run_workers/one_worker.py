# expect: 1
# mistake: starts a single worker whatever `workers` says, so the jobs run one after another
# feedback: one after another
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

    task = asyncio.create_task(worker())
    await queue.join()
    task.cancel()
    return results
