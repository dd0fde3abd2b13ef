# expect: full
# style: dataclass with a while loop
from dataclasses import dataclass


@dataclass
class Countdown:
    n: int

    def __await__(self):
        left, counted = self.n, []
        while left > 0:
            yield from asyncio.sleep(1.0).__await__()
            counted.append(left)
            left -= 1
        return counted
