# expect: full
# style: Future and call_later
async def own_sleep(delay: float, result: object = None) -> object:
    """Wait `delay` seconds, then return `result`, without asyncio.sleep."""
    loop = asyncio.get_running_loop()
    waiter = loop.create_future()
    loop.call_later(delay, waiter.set_result, None)
    await waiter
    return result
