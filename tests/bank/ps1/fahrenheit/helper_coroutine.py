# expect: full
# style: helper coroutine and wait_for
async def convert(celsius: float) -> float:
    return celsius * 9 / 5 + 32


async def fahrenheit(city: str) -> float:
    return await convert(await asyncio.wait_for(temperature(city), timeout=None))
