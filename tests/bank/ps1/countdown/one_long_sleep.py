# expect: 1
# mistake: waits once for n seconds instead of ticking once a second
# feedback: suspended 1 time(s)
class Countdown:
    def __init__(self, n: int) -> None:
        self.n = n

    def __await__(self):
        yield from asyncio.sleep(self.n).__await__()
        return list(range(self.n, 0, -1))
