# expect: 1
# mistake: awaits each fetch inside the loop, so they run one after another
# feedback: one after another
async def fetch_all(delays: list[float]) -> list[float]:
    results = []
    for d in delays:
        results.append(await fetch(d))
    return results
