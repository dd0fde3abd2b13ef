# expect: 1
# mistake: yields to the loop once with sleep(0), then still blocks it with time.sleep
# feedback: time.sleep
async def bake(name: str, seconds: float) -> str:
    await asyncio.sleep(0)
    time.sleep(seconds)
    return f"{name} baked in {seconds} s"
