# expect: 1
# mistake: stays under the limit by fetching one at a time
# feedback: one after another
async def fetch_limited(delays: list[float], limit: int) -> list[float]:
    return [await fetch(d) for d in delays]
