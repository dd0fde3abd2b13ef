# expect: 0
# mistake: schedules nothing, so the future is never filled in and its awaiter waits forever
# feedback: wait forever
def later(loop: asyncio.AbstractEventLoop, delay: float, value: object) -> asyncio.Future:
    future = loop.create_future()
    future.value = value
    return future
