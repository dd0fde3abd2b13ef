# expect: full
# style: create_task
async def fahrenheit(city: str) -> float:
    """Run the request as a task and await the task."""
    request = asyncio.create_task(temperature(city))
    return 32 + 9 * (await request) / 5
