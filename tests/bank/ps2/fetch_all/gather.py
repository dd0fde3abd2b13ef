# expect: full
# style: gather
async def fetch_all(delays: list[float]) -> list[float]:
    """Fetch every delay in `delays` at the same time; return the results in input order."""
    results = await asyncio.gather(*[fetch(d) for d in delays])
    return list(results)
