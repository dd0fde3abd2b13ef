# expect: full
# style: keep a reference to each task, await them all
async def handle_visits(visits: dict[str, float], log: list[str]) -> int:
    """Keep every task in a set, as the asyncio docs advise, then wait for each of them."""
    background = set()
    for page, seconds in visits.items():
        task = asyncio.create_task(record_visit(log, page, seconds))
        background.add(task)
    for task in list(background):
        await task
    return len(visits)
