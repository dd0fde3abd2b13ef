# expect: 0
# mistake: keeps the tasks in a list of its own, which nobody sees after it returns, instead of in `background`
# feedback: add every write task to `background`
async def handle_visits(visits: dict[str, float], log: list[str],
                        background: set[asyncio.Task]) -> int:
    tasks = []
    for page, seconds in visits.items():
        tasks.append(asyncio.create_task(record_visit(log, page, seconds)))
    return len(tasks)
