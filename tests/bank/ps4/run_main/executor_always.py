# expect: 1
# mistake: always runs asyncio.run in a one-thread executor and waits for its result, which blocks the running loop until it is done
# feedback: run_main blocked the loop
import concurrent.futures


def run_main(coro_fn):
    """A fresh thread never has a running loop, so asyncio.run always works there."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(lambda: asyncio.run(coro_fn())).result()
