# expect: full
# style: TaskGroup
async def fetch_some(delays: list[float]) -> tuple[list[float], list[str]]:
    """Each fetch catches its own error, so the TaskGroup never sees one."""
    async def safely(d: float) -> tuple[bool, float | str]:
        try:
            return True, await fetch(d)
        except ValueError as exc:
            return False, str(exc)

    async with asyncio.TaskGroup() as tg:
        tasks = [tg.create_task(safely(d)) for d in delays]
    outcomes = [t.result() for t in tasks]
    return [v for ok, v in outcomes if ok], [v for ok, v in outcomes if not ok]
