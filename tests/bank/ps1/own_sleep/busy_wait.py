# expect: 0
# mistake: polls the clock in a loop with asyncio.sleep(0) instead of waiting for a timer
# feedback: without the clock moving
async def own_sleep(delay: float, result: object = None) -> object:
    loop = asyncio.get_running_loop()
    wake_at = loop.time() + delay
    while loop.time() < wake_at:
        await asyncio.sleep(0)
    return result
