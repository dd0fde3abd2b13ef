# expect: 0
# mistake: uses get_event_loop().run_until_complete, which has no loop in a fresh thread and cannot re-enter a running one
# feedback: no current event loop
# feedback: already running
def run_main(coro_fn):
    loop = asyncio.get_event_loop()
    return loop.run_until_complete(coro_fn())
