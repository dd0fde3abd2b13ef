# expect: 1
# mistake: awaits the read but not the write, so the new prices are never stored
# feedback: write_price
# feedback: never awaited
async def reprice(db: dict[str, float], changes: dict[str, float]) -> dict[str, float]:
    old = {}
    for name, price in changes.items():
        old[name] = await read_price(db, name)
        write_price(db, name, price)
    return old
