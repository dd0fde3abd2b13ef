# expect: full
# style: run_in_executor
async def bake(name: str, seconds: float) -> str:
    """Hand the blocking sleep to the loop's default thread pool."""
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, time.sleep, seconds)
    message = "{} baked in {} s".format(name, seconds)
    return message
