# expect: full
# style: create_task per step
async def pipeline(url: str) -> int:
    """Each step runs as its own task; the next one starts when it is done."""
    text = await asyncio.create_task(download(url))
    words = await asyncio.create_task(parse(text))
    return await asyncio.create_task(save(words))
