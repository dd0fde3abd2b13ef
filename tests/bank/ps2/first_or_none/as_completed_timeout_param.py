# expect: full
# style: as_completed(timeout=)
async def first_or_none(delays: list[float], timeout: float) -> float | None:
    tasks = [asyncio.create_task(fetch(d)) for d in delays]
    try:
        for earliest in asyncio.as_completed(tasks, timeout=timeout):
            return await earliest
        return None
    except TimeoutError:
        return None
    finally:
        for task in tasks:
            task.cancel()
