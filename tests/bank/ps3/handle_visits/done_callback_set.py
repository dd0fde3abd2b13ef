# expect: full
# style: set and done callback (the asyncio documentation's pattern)
async def handle_visits(visits: dict[str, float], log: list[str],
                        background: set[asyncio.Task]) -> int:
    for page, seconds in visits.items():
        task = asyncio.create_task(record_visit(log, page, seconds))
        background.add(task)
        task.add_done_callback(background.discard)
    return len(visits)
