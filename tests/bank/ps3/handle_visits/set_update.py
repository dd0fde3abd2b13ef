# expect: full
# style: all tasks made first, then added to the set together
async def handle_visits(visits: dict[str, float], log: list[str],
                        background: set[asyncio.Task]) -> int:
    """Start every write, then keep them all; each leaves the set when it is done."""
    started = {asyncio.create_task(record_visit(log, p, s)) for p, s in visits.items()}
    background.update(started)
    for task in started:
        task.add_done_callback(background.remove)
    return len(started)
