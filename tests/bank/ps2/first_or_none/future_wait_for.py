# expect: full
# style: Future and wait_for
async def first_or_none(delays: list[float], timeout: float) -> float | None:
    """Every fetch races to settle one Future; wait_for gives up after `timeout`."""
    winner = asyncio.get_running_loop().create_future()

    async def race(d: float) -> None:
        try:
            value = await fetch(d)
        except ValueError as error:  # a failure that comes first is the answer too
            if not winner.done():
                winner.set_exception(error)
            return
        if not winner.done():
            winner.set_result(value)

    runners = [asyncio.create_task(race(d)) for d in delays]
    try:
        return await asyncio.wait_for(winner, timeout)
    except TimeoutError:
        return None
    finally:
        for runner in runners:
            runner.cancel()
