# expect: full
# style: asyncio.wait
async def fetch_some(delays: list[float]) -> tuple[list[float], list[str]]:
    """Wait for every task to finish, then read each one's outcome in input order."""
    tasks = [asyncio.create_task(fetch(d)) for d in delays]
    if tasks:
        await asyncio.wait(tasks)
    values = [t.result() for t in tasks if t.exception() is None]
    errors = [str(t.exception()) for t in tasks if t.exception() is not None]
    return values, errors
