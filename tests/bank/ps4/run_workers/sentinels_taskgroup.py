# expect: full
# style: sentinels and a TaskGroup
async def run_workers(jobs: dict[str, float], workers: int) -> dict[str, str]:
    """Each worker stops when it takes a None; the TaskGroup waits for all of them."""
    queue: asyncio.Queue = asyncio.Queue()
    for job, seconds in jobs.items():
        queue.put_nowait((job, seconds))
    for _ in range(workers):
        queue.put_nowait(None)
    results = {}

    async def worker() -> None:
        while (item := await queue.get()) is not None:
            results[item[0]] = await work(*item)
            queue.task_done()
        queue.task_done()

    async with asyncio.TaskGroup() as tg:
        for _ in range(workers):
            tg.create_task(worker())
    await queue.join()
    return results
