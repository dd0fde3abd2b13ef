# expect: 0
# mistake: replaces time.sleep with asyncio.sleep but forgets the await, so nothing waits
# feedback: coroutine `sleep`
# feedback: never awaited
async def bake(name: str, seconds: float) -> str:
    asyncio.sleep(seconds)
    return f"{name} baked in {seconds} s"
