# expect: full
# style: create_task, awaited later
async def reprice(db: dict[str, float], changes: dict[str, float]) -> dict[str, float]:
    """Read each price, start its write as a task, and await all writes at the end."""
    old = {}
    writes = []
    for name, price in changes.items():
        old[name] = await read_price(db, name)
        writes.append(asyncio.create_task(write_price(db, name, price)))
    for task in writes:
        await task
    return old
