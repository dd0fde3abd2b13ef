# expect: full
# style: nest_asyncio.apply() once, then asyncio.run everywhere
import nest_asyncio


def run_main(coro_fn):
    """After nest_asyncio.apply(), asyncio.run reuses a loop that is running here."""
    if asyncio._get_running_loop() is not None:
        nest_asyncio.apply()
    return asyncio.run(coro_fn())
