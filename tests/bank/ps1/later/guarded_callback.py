# expect: full
# style: callback that skips a cancelled future
def later(loop: asyncio.AbstractEventLoop, delay: float, value: object) -> asyncio.Future:
    future = loop.create_future()

    def fill() -> None:
        if not future.done():
            future.set_result(value)

    handle = loop.call_later(delay, fill)
    future.add_done_callback(lambda _: handle.cancel())
    return future
