# expect: 1
# mistake: keeps the tasks but then sleeps as long as the slowest write before replying
# feedback: handle_visits returned after 0.5 s
async def handle_visits(visits: dict[str, float], log: list[str],
                        background: set[asyncio.Task]) -> int:
    for page, seconds in visits.items():
        task = asyncio.create_task(record_visit(log, page, seconds))
        background.add(task)
        task.add_done_callback(background.discard)
    await asyncio.sleep(max(visits.values(), default=0))
    return len(visits)
