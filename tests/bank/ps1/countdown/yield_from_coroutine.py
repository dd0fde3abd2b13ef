# expect: 0
# mistake: uses `yield from asyncio.sleep(1)` on the coroutine itself inside the generator
# feedback: yield from
class Countdown:
    def __init__(self, n: int) -> None:
        self.n = n

    def __await__(self):
        for _ in range(self.n):
            yield from asyncio.sleep(1)
        return list(range(self.n, 0, -1))
