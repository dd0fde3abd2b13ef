# expect: full
# style: class
class Alarm:
    """Owns the future and the timer that rings it."""

    def __init__(self, loop: asyncio.AbstractEventLoop, delay: float, value: object) -> None:
        self.value = value
        self.future = loop.create_future()
        self.timer = loop.call_later(delay, self.ring)

    def ring(self) -> None:
        self.future.set_result(self.value)


def later(loop: asyncio.AbstractEventLoop, delay: float, value: object) -> asyncio.Future:
    return Alarm(loop, delay, value).future
