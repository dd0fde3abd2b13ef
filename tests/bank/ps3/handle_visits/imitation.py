# expect: 0
# mistake: writes the log itself instead of calling record_visit, and sleeps to look busy
# feedback: never called `record_visit`
async def handle_visits(visits: dict[str, float], log: list[str],
                        background: set[asyncio.Task]) -> int:
    log.extend(visits)
    return len(visits)
