# expect: 1
# mistake: tries asyncio.run and on RuntimeError runs a second coroutine on the running loop, which is already running
# feedback: already running
def run_main(coro_fn):
    try:
        return asyncio.run(coro_fn())
    except RuntimeError:
        return asyncio.get_event_loop().run_until_complete(coro_fn())
