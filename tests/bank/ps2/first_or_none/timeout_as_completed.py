# expect: full
# style: as_completed inside asyncio.timeout
async def first_or_none(delays: list[float], timeout: float) -> float | None:
    """Take the first task as_completed hands back; the timeout gives up; finally cancels."""
    tasks = [asyncio.create_task(fetch(d)) for d in delays]
    try:
        async with asyncio.timeout(timeout):
            for earliest in asyncio.as_completed(tasks):
                return await earliest
    except TimeoutError:
        return None
    finally:
        for task in tasks:
            task.cancel()
