# expect: 0
# mistake: starts save as a task and returns without waiting for it (fire and forget)
# feedback: still running
# feedback: save
async def pipeline(url: str) -> int:
    words = await parse(await download(url))
    asyncio.create_task(save(words))
    return len(set(words))
