# expect: full
# style: asyncio.wait
async def handle_visits(visits: dict[str, float], log: list[str]) -> int:
    tasks = [asyncio.create_task(record_visit(log, p, s)) for p, s in visits.items()]
    if tasks:
        await asyncio.wait(tasks)
    return len(tasks)
