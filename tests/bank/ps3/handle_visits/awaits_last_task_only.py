# expect: 0
# mistake: awaits only the last task it created, so slower writes started before it are lost
# feedback: was still running
async def handle_visits(visits: dict[str, float], log: list[str]) -> int:
    task = None
    for page, seconds in visits.items():
        task = asyncio.create_task(record_visit(log, page, seconds))
    if task is not None:
        await task
    return len(visits)
