# expect: full
# style: create_task loop
async def fetch_some(delays: list[float]) -> tuple[list[float], list[str]]:
    """Start every fetch, then await each task in order inside try/except."""
    tasks = [asyncio.create_task(fetch(d)) for d in delays]
    values: list[float] = []
    errors: list[str] = []
    for task in tasks:
        try:
            values.append(await task)
        except ValueError as exc:
            errors.append(str(exc))
    return values, errors
