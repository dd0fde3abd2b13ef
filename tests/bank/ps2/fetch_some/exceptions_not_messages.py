# expect: 1
# mistake: returns the exception objects instead of their messages
# feedback: not a ValueError
async def fetch_some(delays: list[float]) -> tuple[list[float], list[str]]:
    results = await asyncio.gather(*(fetch(d) for d in delays), return_exceptions=True)
    values = [r for r in results if not isinstance(r, Exception)]
    errors = [r for r in results if isinstance(r, Exception)]
    return values, errors
