# expect: 1
# mistake: always calls asyncio.run, which fails when a loop is already running (a notebook)
# feedback: cannot be called from a running event loop
def run_main(coro_fn):
    return asyncio.run(coro_fn())
