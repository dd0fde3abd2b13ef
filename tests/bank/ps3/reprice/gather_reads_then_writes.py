# expect: full
# style: gather
# proves: another schedule
async def reprice(db: dict[str, float], changes: dict[str, float]) -> dict[str, float]:
    """Read every old price at once, then write every new price at once."""
    names = list(changes)
    prices = await asyncio.gather(*(read_price(db, n) for n in names))
    await asyncio.gather(*(write_price(db, n, changes[n]) for n in names))
    return dict(zip(names, prices))
