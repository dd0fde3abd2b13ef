# expect: full
# style: workers stop when get_nowait finds the queue empty, gather
class Workers:
    """A tiny worker pool object: the queue is filled before any worker starts."""

    def __init__(self, jobs: dict[str, float]) -> None:
        self.queue: asyncio.Queue = asyncio.Queue()
        for pair in jobs.items():
            self.queue.put_nowait(pair)
        self.results: dict[str, str] = {}

    async def worker(self) -> None:
        while True:
            try:
                job, seconds = self.queue.get_nowait()
            except asyncio.QueueEmpty:
                return
            self.results[job] = await work(job, seconds)
            self.queue.task_done()


async def run_workers(jobs: dict[str, float], workers: int) -> dict[str, str]:
    pool = Workers(jobs)
    await asyncio.gather(*(pool.worker() for _ in range(workers)))
    return pool.results
