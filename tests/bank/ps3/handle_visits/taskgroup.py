# expect: 1
# mistake: waits for every write in a TaskGroup before replying, which holds up the reply
# feedback: handle_visits returned after 0.5 s
async def handle_visits(visits: dict[str, float], log: list[str],
                        background: set[asyncio.Task]) -> int:
    async with asyncio.TaskGroup() as group:
        for page, seconds in visits.items():
            group.create_task(record_visit(log, page, seconds))
    return len(visits)
