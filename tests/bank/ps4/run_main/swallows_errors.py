# expect: 1
# mistake: inside a running loop, catches the coroutine's exception, prints it and returns None instead of raising it
# proves: visible checks pass
# feedback: returned None
def run_main(coro_fn):
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro_fn())
    import nest_asyncio

    nest_asyncio.apply(loop)
    try:
        return loop.run_until_complete(coro_fn())
    except Exception as error:
        print("run_main: the coroutine failed:", error)
        return None
