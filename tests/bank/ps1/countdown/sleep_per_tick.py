# expect: full
# style: generator __await__ with yield from sleep
class Countdown:
    def __init__(self, n: int) -> None:
        self.n = n

    def __await__(self):
        numbers = list(range(self.n, 0, -1))
        for _ in numbers:
            yield from asyncio.sleep(1).__await__()
        return numbers
