# expect: 1
# mistake: gathers the writes but forgets to await the gather, so the writes are lost
# feedback: still running
async def reprice(db: dict[str, float], changes: dict[str, float]) -> dict[str, float]:
    old = {name: await read_price(db, name) for name in changes}
    asyncio.gather(*(write_price(db, name, price) for name, price in changes.items()))
    return old
