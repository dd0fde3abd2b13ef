# expect: full
# style: a Future per tick, filled by call_later
class Countdown:
    def __init__(self, n: int) -> None:
        self.n = n

    def __await__(self):
        loop = asyncio.get_running_loop()
        counted = []
        while len(counted) < self.n:
            tick = loop.create_future()
            loop.call_later(1, tick.set_result, None)
            yield from tick
            counted.append(self.n - len(counted))
        return counted
