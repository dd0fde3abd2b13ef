# expect: 0
# mistake: a plain `def` that runs the coroutine with asyncio.run instead of being a coroutine function
# feedback: not a coroutine function
# feedback: async def
def fahrenheit(city: str) -> float:
    return asyncio.run(temperature(city)) * 9 / 5 + 32
