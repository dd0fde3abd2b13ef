# expect: full
# style: asyncio.sleep
async def bake(name: str, seconds: float) -> str:
    """Wait with asyncio.sleep, which lets the other orders run meanwhile."""
    await asyncio.sleep(seconds)
    return f"{name} baked in {seconds} s"
