# expect: full
# style: Event set by call_later
async def own_sleep(delay: float, result: object = None) -> object:
    wake_up = asyncio.Event()
    asyncio.get_running_loop().call_later(delay, wake_up.set)
    await wake_up.wait()
    return result
