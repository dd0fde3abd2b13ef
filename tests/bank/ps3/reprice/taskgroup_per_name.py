# expect: full
# style: TaskGroup
async def reprice(db: dict[str, float], changes: dict[str, float]) -> dict[str, float]:
    """One task per name: each reads its old price, then writes the new one."""
    old: dict[str, float] = {}

    async def change(name: str, price: float) -> None:
        old[name] = await read_price(db, name)
        await write_price(db, name, price)

    async with asyncio.TaskGroup() as tg:
        for name, price in changes.items():
            tg.create_task(change(name, price))
    return {name: old[name] for name in changes}
