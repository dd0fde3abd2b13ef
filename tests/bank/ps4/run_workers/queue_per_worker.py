# expect: 1
# mistake: deals the jobs out to one queue per worker in advance, so a worker that empties its own queue sits idle while another's jobs wait
# proves: visible checks pass
# feedback: sat idle while a 1.0-second job was waiting to start
async def run_workers(jobs: dict[str, float], workers: int) -> dict[str, str]:
    queues: list[asyncio.Queue] = [asyncio.Queue() for _ in range(workers)]
    for i, item in enumerate(jobs.items()):
        queues[i % workers].put_nowait(item)
    results: dict[str, str] = {}

    async def worker(queue: asyncio.Queue) -> None:
        while not queue.empty():
            job, seconds = queue.get_nowait()
            results[job] = await work(job, seconds)
            queue.task_done()

    await asyncio.gather(*(worker(q) for q in queues))
    return results
