# expect: 0
# mistake: the code shown: starts the writes as tasks and keeps none of them, so shutdown cannot wait for them
# feedback: nothing could wait for them
async def handle_visits(visits: dict[str, float], log: list[str],
                        background: set[asyncio.Task]) -> int:
    for page, seconds in visits.items():
        asyncio.create_task(record_visit(log, page, seconds))
    return len(visits)
