# expect: 0
# mistake: passes the delay to call_at, which takes a point in time, so the future is only right while the clock still reads 0
# proves: visible checks pass
# feedback: finished after only 1.0 virtual seconds; it should take 1.5 s
def later(loop: asyncio.AbstractEventLoop, delay: float, value: object) -> asyncio.Future:
    future = loop.create_future()
    loop.call_at(delay, future.set_result, value)
    return future
