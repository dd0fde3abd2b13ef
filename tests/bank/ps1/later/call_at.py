# expect: full
# style: call_at with an absolute time
def later(loop: asyncio.AbstractEventLoop, delay: float, value: object) -> asyncio.Future:
    future = loop.create_future()
    loop.call_at(loop.time() + delay, future.set_result, value)
    return future
