# expect: 0
# mistake: awaits temperature twice (once to check it, once to convert), so it takes twice as long
# feedback: called `temperature` 2 time(s) instead of 1
async def fahrenheit(city: str) -> float:
    if await temperature(city) is None:
        return 0.0
    return await temperature(city) * 9 / 5 + 32
