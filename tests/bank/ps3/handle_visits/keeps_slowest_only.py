# expect: 1
# mistake: keeps only the slowest write in `background`, reasoning that shutdown need only wait for that one, so the other writes are kept alive by nothing
# proves: visible checks pass
# feedback: were not in `background`
async def handle_visits(visits: dict[str, float], log: list[str],
                        background: set[asyncio.Task]) -> int:
    slowest = max(visits, key=visits.get, default=None)
    for page, seconds in visits.items():
        task = asyncio.create_task(record_visit(log, page, seconds))
        if page == slowest:
            background.add(task)
            task.add_done_callback(background.discard)
    return len(visits)
