# expect: 0
# mistake: fetches the start page and the pages it links to, but never follows links further (the pages found later wait for ever)
# feedback: the pages reachable
async def crawl(site: FakeSite, start: str, limit: int) -> set[str]:
    gate = asyncio.Semaphore(limit)

    async def fetch(url: str) -> list[str]:
        async with gate:
            return await site.get(url)

    links = await fetch(start)
    await asyncio.gather(*(fetch(link) for link in set(links) - {start}))
    return {start, *links}
