# expect: 1
# mistake: starts one worker per job instead of `workers`, so too many jobs run at once
# feedback: at most 2 may run at once
async def run_workers(jobs: dict[str, float], workers: int) -> dict[str, str]:
    queue: asyncio.Queue = asyncio.Queue()
    for item in jobs.items():
        queue.put_nowait(item)
    results = {}

    async def worker() -> None:
        job, seconds = await queue.get()
        results[job] = await work(job, seconds)
        queue.task_done()

    await asyncio.gather(*(worker() for _ in jobs))
    return results
