# expect: 0
# mistake: changes db directly instead of calling read_price and write_price, and sleeps as long as they would take
# proves: visible checks pass
# feedback: never called `read_price`
# feedback: never called `write_price`
async def reprice(db: dict[str, float], changes: dict[str, float]) -> dict[str, float]:
    old = {name: db[name] for name in changes}
    db.update(changes)
    await asyncio.sleep(0.3 * len(changes))
    return old
