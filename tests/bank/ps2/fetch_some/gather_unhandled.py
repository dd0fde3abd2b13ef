# expect: 0
# mistake: plain gather without return_exceptions: the first failure is raised and the rest is lost
# feedback: raised ValueError
# feedback: cannot fetch
async def fetch_some(delays: list[float]) -> tuple[list[float], list[str]]:
    values = await asyncio.gather(*(fetch(d) for d in delays))
    return list(values), []
