# expect: full
# style: call_at with a cancellation-safe callback
async def own_sleep(delay: float, result: object = None) -> object:
    loop = asyncio.get_running_loop()
    future = loop.create_future()

    def wake() -> None:
        if not future.done():
            future.set_result(result)

    handle = loop.call_at(loop.time() + delay, wake)
    try:
        return await future
    finally:
        handle.cancel()
