# expect: 1
# mistake: awaits each write before starting the next, so nothing is lost but they run one after another
# feedback: one after another
async def handle_visits(visits: dict[str, float], log: list[str]) -> int:
    for page, seconds in visits.items():
        await record_visit(log, page, seconds)
    return len(visits)
