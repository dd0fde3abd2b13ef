# expect: full
# style: Semaphore with an asyncio.wait loop over pending tasks
async def crawl(site: FakeSite, start: str, limit: int) -> set[str]:
    seen = {start}
    gate = asyncio.Semaphore(limit)

    async def fetch(url: str) -> list[str]:
        async with gate:
            return await site.get(url)

    pending = {asyncio.create_task(fetch(start))}
    while pending:
        done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
        for task in done:
            for link in task.result():
                if link not in seen:
                    seen.add(link)
                    pending.add(asyncio.create_task(fetch(link)))
    return seen
