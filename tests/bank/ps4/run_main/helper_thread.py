# expect: 1
# mistake: runs the coroutine with asyncio.run in a helper thread and joins it, which blocks the running loop (and every other task) until the thread is done
# feedback: ticked 0 time(s)
def run_main(coro_fn):
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro_fn())
    box = {}
    thread = threading.Thread(target=lambda: box.update(value=asyncio.run(coro_fn())))
    thread.start()
    thread.join()
    if "value" not in box:
        raise RuntimeError("the coroutine failed in the helper thread")
    return box["value"]
