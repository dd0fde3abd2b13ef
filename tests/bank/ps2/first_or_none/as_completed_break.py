# expect: 1
# mistake: stops at the first result of as_completed but never cancels the rest
# feedback: still running
async def first_or_none(delays: list[float], timeout: float) -> float | None:
    result = None
    try:
        async with asyncio.timeout(timeout):
            for earliest in asyncio.as_completed([fetch(d) for d in delays]):
                result = await earliest
                break
    except TimeoutError:
        pass
    return result
