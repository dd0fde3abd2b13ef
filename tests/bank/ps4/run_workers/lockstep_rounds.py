# expect: 1
# mistake: each round takes one job per worker and waits for the whole round, so a worker that finishes early sits idle while jobs wait
# feedback: one of the 2 slots sat idle while a 1.0-second job was waiting to start
async def run_workers(jobs: dict[str, float], workers: int) -> dict[str, str]:
    queue: asyncio.Queue = asyncio.Queue()
    for item in jobs.items():
        queue.put_nowait(item)
    results: dict[str, str] = {}

    async def one(job: str, seconds: float) -> None:
        results[job] = await work(job, seconds)
        queue.task_done()

    while not queue.empty():
        round_ = [queue.get_nowait() for _ in range(min(workers, queue.qsize()))]
        await asyncio.gather(*(one(job, seconds) for job, seconds in round_))
    await queue.join()
    return results
