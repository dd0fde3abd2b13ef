# expect: 0
# mistake: returns the coroutine objects fetch(d) creates without ever awaiting them
# feedback: never awaited
async def fetch_all(delays: list[float]) -> list[float]:
    return [fetch(d) for d in delays]
