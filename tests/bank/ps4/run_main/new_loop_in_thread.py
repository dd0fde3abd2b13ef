# expect: 1
# mistake: runs a new event loop in a thread when a loop is running, and joins the thread, which blocks the running loop
# feedback: ticked 0 time(s)
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
