# expect: 1
# mistake: cancels the other fetches only after a result arrived, not when the first fetch to finish raises
# proves: visible checks pass
# feedback: whose first fetch failed, returned but left
async def first_or_none(delays: list[float], timeout: float) -> float | None:
    tasks = [asyncio.create_task(fetch(d)) for d in delays]
    try:
        async with asyncio.timeout(timeout):
            for earliest in asyncio.as_completed(tasks):
                result = await earliest
                break
    except TimeoutError:
        result = None
    for task in tasks:
        task.cancel()
    return result
