# expect: 0
# mistake: counts down to 0 inclusive, one tick too many
# feedback: should give [3, 2, 1]
class Countdown:
    def __init__(self, n: int) -> None:
        self.n = n

    def __await__(self):
        counted = []
        for number in range(self.n, -1, -1):
            yield from asyncio.sleep(1).__await__()
            counted.append(number)
        return counted
