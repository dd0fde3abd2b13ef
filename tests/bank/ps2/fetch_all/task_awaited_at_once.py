# expect: 1
# mistake: creates each task and awaits it straight away, before creating the next one
# feedback: one after another
async def fetch_all(delays: list[float]) -> list[float]:
    results = []
    for d in delays:
        task = asyncio.create_task(fetch(d))
        results.append(await task)
    return results
