# expect: 1
# mistake: starts each write as a task but never awaits it, so the last writes are lost
# feedback: still running
async def reprice(db: dict[str, float], changes: dict[str, float]) -> dict[str, float]:
    old = {}
    for name, price in changes.items():
        old[name] = await read_price(db, name)
        asyncio.create_task(write_price(db, name, price))
    return old
