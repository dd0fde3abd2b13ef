# expect: 1
# mistake: ticks before checking whether anything is left to count, so Countdown(0) still waits a second and counts 0
# proves: visible checks pass
# feedback: await Countdown(0) gave [0] but should give []
class Countdown:
    def __init__(self, n: int) -> None:
        self.n = n

    def __await__(self):
        counted = []
        number = self.n
        while True:
            yield from asyncio.sleep(1).__await__()
            counted.append(number)
            number -= 1
            if number <= 0:
                break
        return counted
