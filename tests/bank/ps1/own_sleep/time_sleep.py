# expect: 0
# mistake: waits with time.sleep, which blocks the event loop so nothing else runs
# feedback: blocked
# feedback: time.sleep
import time


async def own_sleep(delay: float, result: object = None) -> object:
    time.sleep(delay)
    return result
