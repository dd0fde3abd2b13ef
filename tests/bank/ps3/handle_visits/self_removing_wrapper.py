# expect: full
# style: a wrapper coroutine that takes its own task out of the set when done
async def handle_visits(visits: dict[str, float], log: list[str],
                        background: set[asyncio.Task]) -> int:
    async def write(page: str, seconds: float) -> None:
        try:
            await record_visit(log, page, seconds)
        finally:
            background.discard(asyncio.current_task())

    for page, seconds in visits.items():
        background.add(asyncio.create_task(write(page, seconds)))
    return len(visits)
