# expect: 0
# mistake: a TaskGroup without catching errors: the first failure cancels the other fetches
# feedback: ExceptionGroup
async def fetch_some(delays: list[float]) -> tuple[list[float], list[str]]:
    async with asyncio.TaskGroup() as tg:
        tasks = [tg.create_task(fetch(d)) for d in delays]
    return [t.result() for t in tasks], []
