# expect: full
# style: await each call in turn
async def reprice(db: dict[str, float], changes: dict[str, float]) -> dict[str, float]:
    """Read the old price, then write the new one, name after name."""
    old = {}
    for name, price in changes.items():
        old[name] = await read_price(db, name)
        await write_price(db, name, price)
    return old
