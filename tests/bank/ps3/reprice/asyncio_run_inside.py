# expect: 0
# mistake: calls asyncio.run inside the coroutine to get the values, although a loop is running
# feedback: cannot be called from a running event loop
async def reprice(db: dict[str, float], changes: dict[str, float]) -> dict[str, float]:
    old = {}
    for name, price in changes.items():
        old[name] = asyncio.run(read_price(db, name))
        asyncio.run(write_price(db, name, price))
    return old
