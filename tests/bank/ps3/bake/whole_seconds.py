# expect: 1
# mistake: sleeps a whole number of seconds (int(seconds)), which is only right when every time is a whole number
# proves: visible checks pass
# feedback: finished after only 2.0 virtual seconds; it should take 2.5 s
async def bake(name: str, seconds: float) -> str:
    await asyncio.sleep(int(seconds))
    return f"{name} baked in {seconds} s"
