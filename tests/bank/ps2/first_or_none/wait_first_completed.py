# expect: full
# style: asyncio.wait
async def first_or_none(delays: list[float], timeout: float) -> float | None:
    """The result of the first fetch to finish within `timeout` seconds, else None."""
    tasks = {asyncio.create_task(fetch(d)) for d in delays}
    done, pending = await asyncio.wait(tasks, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    for task in pending:
        task.cancel()
    if not done:
        return None
    return next(iter(done)).result()
