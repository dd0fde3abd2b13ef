# expect: 0
# mistake: runs asyncio.sleep with asyncio.run from inside a coroutine
# feedback: cannot be called from a running event loop
async def bake(name: str, seconds: float) -> str:
    asyncio.run(asyncio.sleep(seconds))
    return f"{name} baked in {seconds} s"
