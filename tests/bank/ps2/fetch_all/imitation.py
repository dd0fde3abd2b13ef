# expect: 0
# mistake: never fetches: waits as long as the longest fetch and computes each result from its delay
# proves: visible checks pass
# feedback: never called `fetch`
async def fetch_all(delays: list[float]) -> list[float]:
    await asyncio.sleep(max(delays, default=0.0))
    return [d * 10 for d in delays]
