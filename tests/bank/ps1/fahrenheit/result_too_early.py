# expect: 0
# mistake: starts a task and asks for its result before awaiting it
# feedback: InvalidStateError
async def fahrenheit(city: str) -> float:
    task = asyncio.create_task(temperature(city))
    return task.result() * 9 / 5 + 32
