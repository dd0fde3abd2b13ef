# expect: 0
# mistake: sleeps one second hoping the tasks finish meanwhile, instead of awaiting them
# feedback: was still running
async def handle_visits(visits: dict[str, float], log: list[str]) -> int:
    for page, seconds in visits.items():
        asyncio.create_task(record_visit(log, page, seconds))
    await asyncio.sleep(1)
    return len(visits)
