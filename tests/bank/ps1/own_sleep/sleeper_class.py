# expect: full
# style: class with __await__
class Sleeper:
    """An awaitable that a call_later callback wakes up."""

    def __init__(self, delay: float, result: object) -> None:
        self.delay, self.result = delay, result

    def __await__(self):
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        timer = loop.call_later(self.delay, future.set_result, self.result)
        try:
            return (yield from future)
        finally:
            timer.cancel()


async def own_sleep(delay: float, result: object = None) -> object:
    return await Sleeper(delay, result)
