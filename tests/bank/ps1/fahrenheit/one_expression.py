# expect: full
# style: await inside the expression
async def fahrenheit(city: str) -> float:
    return (await temperature(city)) * 9 / 5 + 32
