# expect: 0
# mistake: __await__ returns a coroutine object instead of an iterator
# feedback: __await__() returned a coroutine
class Countdown:
    def __init__(self, n: int) -> None:
        self.n = n

    async def _count(self) -> list[int]:
        for _ in range(self.n):
            await asyncio.sleep(1)
        return list(range(self.n, 0, -1))

    def __await__(self):
        return self._count()
