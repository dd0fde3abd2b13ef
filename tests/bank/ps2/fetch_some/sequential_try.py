# expect: 1
# mistake: right values and messages, but awaits each fetch before starting the next
# feedback: one after another
async def fetch_some(delays: list[float]) -> tuple[list[float], list[str]]:
    values, errors = [], []
    for d in delays:
        try:
            values.append(await fetch(d))
        except ValueError as exc:
            errors.append(str(exc))
    return values, errors
