# expect: 0
# mistake: forgets `await`, so it computes with the coroutine object instead of the temperature
# feedback: never awaited
# feedback: temperature
async def fahrenheit(city: str) -> float:
    return temperature(city) * 9 / 5 + 32
