# expect: full
# style: create_task loop
async def fetch_all(delays: list[float]) -> list[float]:
    """Start a task per delay first, then await them one by one (they already run)."""
    tasks = []
    for d in delays:
        tasks.append(asyncio.create_task(fetch(d)))
    results = []
    for task in tasks:
        results.append(await task)
    return results
