# expect: 1
# mistake: never cancels its timer, so once the sleep is cancelled early the timer still fires and fills a cancelled Future (InvalidStateError)
# proves: visible checks pass
# feedback: its timer still went off at 2.0 s
async def own_sleep(delay: float, result: object = None) -> object:
    """Wait `delay` seconds, then return `result`, without asyncio.sleep."""
    loop = asyncio.get_running_loop()
    waiter = loop.create_future()
    loop.call_later(delay, waiter.set_result, None)
    await waiter
    return result
