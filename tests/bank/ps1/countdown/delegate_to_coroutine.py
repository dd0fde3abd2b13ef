# expect: full
# style: __await__ delegates to an async def method
class Countdown:
    """__await__ hands over to the iterator of a coroutine."""

    def __init__(self, n: int) -> None:
        self.n = n

    async def _count(self) -> list[int]:
        counted = []
        for number in range(self.n, 0, -1):
            await asyncio.sleep(1)
            counted.append(number)
        return counted

    def __await__(self):
        return self._count().__await__()
