# expect: 0
# mistake: writes a coroutine function that sleeps, which returns a coroutine, not a Future
# feedback: not an asyncio.Future
async def later(loop: asyncio.AbstractEventLoop, delay: float, value: object) -> object:
    await asyncio.sleep(delay)
    return value
