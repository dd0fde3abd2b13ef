# expect: 1
# mistake: when a loop runs, schedules a task and returns the Task instead of its result
# feedback: was still running
def run_main(coro_fn):
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro_fn())
    return loop.create_task(coro_fn())
