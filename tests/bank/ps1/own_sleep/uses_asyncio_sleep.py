# expect: 1
# mistake: simply awaits asyncio.sleep, which the question asks to rebuild
# feedback: build it from a Future
async def own_sleep(delay: float, result: object = None) -> object:
    return await asyncio.sleep(delay, result)
