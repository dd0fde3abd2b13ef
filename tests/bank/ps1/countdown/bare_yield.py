# expect: 0
# mistake: suspends with a bare `yield`, which gives up its turn but waits no time at all
# feedback: finished after only 0.0 virtual seconds
class Countdown:
    def __init__(self, n: int) -> None:
        self.n = n

    def __await__(self):
        counted = []
        for number in range(self.n, 0, -1):
            yield
            counted.append(number)
        return counted
