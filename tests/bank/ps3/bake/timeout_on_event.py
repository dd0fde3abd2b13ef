# expect: full
# style: asyncio.timeout around a wait that never ends
async def bake(name: str, seconds: float) -> str:
    """The oven is a timer: wait on an event nobody sets until the timeout fires."""
    try:
        async with asyncio.timeout(seconds):
            await asyncio.Event().wait()
    except TimeoutError:
        pass
    return f"{name} baked in {seconds} s"
