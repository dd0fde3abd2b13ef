# expect: 0
# mistake: waits for the first fetch however long it takes: the timeout is never applied
# feedback: should give None
async def first_or_none(delays: list[float], timeout: float) -> float | None:
    tasks = [asyncio.create_task(fetch(d)) for d in delays]
    done, pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    for task in pending:
        task.cancel()
    return done.pop().result()
