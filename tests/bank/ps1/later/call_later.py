# expect: full
# style: call_later with set_result
def later(loop: asyncio.AbstractEventLoop, delay: float, value: object) -> asyncio.Future:
    """A Future of `loop` that gets `value` as its result `delay` seconds from now."""
    box = loop.create_future()
    loop.call_later(delay, box.set_result, value)
    return box
