# expect: full
# style: a task of the running loop, driven to its end by a re-entrant run_until_complete
def run_main(coro_fn):
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro_fn())
    import nest_asyncio

    nest_asyncio.apply(loop)
    task = loop.create_task(coro_fn())
    loop.run_until_complete(task)
    return task.result()
