# expect: full
# style: gather
async def fetch_some(delays: list[float]) -> tuple[list[float], list[str]]:
    """Fetch every delay at once; return (values that worked, messages of failures), in order."""
    values, errors = [], []
    for outcome in await asyncio.gather(*map(fetch, delays), return_exceptions=True):
        if isinstance(outcome, ValueError):
            errors.append(str(outcome))
        else:
            values.append(outcome)
    return values, errors
