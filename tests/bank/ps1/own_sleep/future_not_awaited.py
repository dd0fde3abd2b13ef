# expect: 0
# mistake: schedules the future but returns without awaiting it
# feedback: finished after only 0.0 virtual seconds
async def own_sleep(delay: float, result: object = None) -> object:
    loop = asyncio.get_running_loop()
    future = loop.create_future()
    loop.call_later(delay, future.set_result, result)
    return result
