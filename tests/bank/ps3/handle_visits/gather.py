# expect: 1
# mistake: awaits a gather of every write before replying, which holds up the reply
# feedback: it should reply at once
async def handle_visits(visits: dict[str, float], log: list[str],
                        background: set[asyncio.Task]) -> int:
    await asyncio.gather(*[record_visit(log, page, s) for page, s in visits.items()])
    return len(visits)
