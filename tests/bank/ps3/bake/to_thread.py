# expect: full
# style: blocking sleep moved to a thread
async def bake(name: str, seconds: float) -> str:
    """Keep the blocking call, but run it in a worker thread so the loop stays free."""
    await asyncio.to_thread(time.sleep, seconds)
    return f"{name} baked in {seconds} s"
