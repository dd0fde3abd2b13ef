# expect: 0
# mistake: awaits the write but stores the read's coroutine object as the old price
# feedback: read_price
# feedback: never awaited
async def reprice(db: dict[str, float], changes: dict[str, float]) -> dict[str, float]:
    old = {}
    for name, price in changes.items():
        old[name] = read_price(db, name)
        await write_price(db, name, price)
    return old
