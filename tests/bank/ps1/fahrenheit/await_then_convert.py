# expect: full
# style: await, then compute
async def fahrenheit(city: str) -> float:
    """The temperature in `city` in degrees Fahrenheit."""
    celsius = await temperature(city)
    return celsius * 1.8 + 32
