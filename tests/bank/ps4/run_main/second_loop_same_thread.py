# expect: 1
# mistake: starts a second event loop on the thread where one already runs
# feedback: another loop is running
def run_main(coro_fn):
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(coro_fn())
    finally:
        loop.close()
