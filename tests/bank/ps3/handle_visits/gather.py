# expect: full
# style: gather
async def handle_visits(visits: dict[str, float], log: list[str]) -> int:
    await asyncio.gather(*[record_visit(log, page, s) for page, s in visits.items()])
    return len(visits)
