# expect: full
# style: TaskGroup
async def handle_visits(visits: dict[str, float], log: list[str]) -> int:
    """The TaskGroup waits for every write when the block ends."""
    async with asyncio.TaskGroup() as group:
        for page, seconds in visits.items():
            group.create_task(record_visit(log, page, seconds))
    return len(visits)
