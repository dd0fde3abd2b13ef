# expect: 0
# mistake: leaves the fire-and-forget tasks as they were, so unfinished writes are lost
# feedback: was still running
async def handle_visits(visits: dict[str, float], log: list[str]) -> int:
    for page, seconds in visits.items():
        asyncio.create_task(record_visit(log, page, seconds))
    return len(visits)
