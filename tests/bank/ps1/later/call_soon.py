# expect: 0
# mistake: uses call_soon, so the future is filled at once instead of after `delay`
# feedback: finished after only 0.0 virtual seconds
def later(loop: asyncio.AbstractEventLoop, delay: float, value: object) -> asyncio.Future:
    future = loop.create_future()
    loop.call_soon(future.set_result, value)
    return future
