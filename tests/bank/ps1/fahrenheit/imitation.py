# expect: 0
# mistake: never asks the service: waits one second and looks the temperature up in CELSIUS itself
# proves: visible checks pass
# feedback: never called `temperature`
async def fahrenheit(city: str) -> float:
    await asyncio.sleep(1.0)
    return CELSIUS[city] * 9 / 5 + 32
