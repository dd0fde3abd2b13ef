# expect: 0
# mistake: keeps the tasks in a list but never awaits them, so they are still lost
# feedback: was still running
async def handle_visits(visits: dict[str, float], log: list[str]) -> int:
    tasks = []
    for page, seconds in visits.items():
        tasks.append(asyncio.create_task(record_visit(log, page, seconds)))
    return len(tasks)
