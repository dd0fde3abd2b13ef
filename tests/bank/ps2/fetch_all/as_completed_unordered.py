# expect: 1
# mistake: collects results with as_completed in the order they finish, not the input order
# feedback: wrong order
async def fetch_all(delays: list[float]) -> list[float]:
    return [await done for done in asyncio.as_completed([fetch(d) for d in delays])]
