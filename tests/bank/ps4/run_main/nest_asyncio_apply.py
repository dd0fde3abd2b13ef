# expect: full
# style: nest_asyncio on the running loop
import nest_asyncio


def run_main(coro_fn):
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro_fn())
    nest_asyncio.apply(loop)
    return loop.run_until_complete(coro_fn())
