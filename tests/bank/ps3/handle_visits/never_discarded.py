# expect: 1
# mistake: adds every task to `background` but never removes a finished one, so the set grows with every visit for ever
# proves: visible checks pass
# feedback: still held 3 finished tasks
async def handle_visits(visits: dict[str, float], log: list[str],
                        background: set[asyncio.Task]) -> int:
    for page, seconds in visits.items():
        background.add(asyncio.create_task(record_visit(log, page, seconds)))
    return len(visits)
