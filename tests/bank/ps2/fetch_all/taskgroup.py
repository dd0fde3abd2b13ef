# expect: full
# style: TaskGroup
async def fetch_all(delays: list[float]) -> list[float]:
    """Fetch every delay in `delays` at the same time; return the results in input order."""
    async with asyncio.TaskGroup() as group:
        tasks = [group.create_task(fetch(d)) for d in delays]
    return [task.result() for task in tasks]
