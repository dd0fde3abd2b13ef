# expect: 0
# mistake: never fetches: waits as long as the longest fetch and writes the values and messages itself
# proves: visible checks pass
# feedback: never called `fetch`
async def fetch_some(delays: list[float]) -> tuple[list[float], list[str]]:
    await asyncio.sleep(max((abs(d) for d in delays), default=0.0))
    return [d * 10 for d in delays if d >= 0], [f"cannot fetch {d}" for d in delays if d < 0]
