# expect: 0
# mistake: wraps one try/except around gather, so one failure throws away every other result
# feedback: still running
async def fetch_some(delays: list[float]) -> tuple[list[float], list[str]]:
    try:
        values = await asyncio.gather(*(fetch(d) for d in delays))
        return list(values), []
    except ValueError as exc:
        return [], [str(exc)]
