# expect: 0
# mistake: writes call_later(delay, future.set_result(value)), which sets the result right away
# feedback: finished after only 0.0 virtual seconds
def later(loop: asyncio.AbstractEventLoop, delay: float, value: object) -> asyncio.Future:
    future = loop.create_future()
    loop.call_later(delay, future.set_result(value))
    return future
