# expect: full
# style: a new event loop run by hand, in a thread if one is running here
def _run_on_new_loop(coro_fn):
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(coro_fn())
    finally:
        loop.close()


def run_main(coro_fn):
    if asyncio._get_running_loop() is None:
        return _run_on_new_loop(coro_fn)
    result = []
    worker = threading.Thread(target=lambda: result.append(_run_on_new_loop(coro_fn)))
    worker.start()
    worker.join()
    return result[0]
