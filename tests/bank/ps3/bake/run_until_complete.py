# expect: 0
# mistake: drives the sleep with run_until_complete on the loop that is already running
# feedback: already running
async def bake(name: str, seconds: float) -> str:
    loop = asyncio.get_event_loop()
    loop.run_until_complete(asyncio.sleep(seconds))
    return f"{name} baked in {seconds} s"
