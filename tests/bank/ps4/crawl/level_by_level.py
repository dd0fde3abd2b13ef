# expect: 1
# mistake: keeps `limit` fetches busy within one level of links, but starts the pages a level found only when the whole level is done, so slots sit idle while found pages wait
# proves: visible checks pass
# feedback: sat idle while
async def crawl(site: FakeSite, start: str, limit: int) -> set[str]:
    seen = {start}
    level = [start]
    gate = asyncio.Semaphore(limit)

    async def fetch(url: str) -> list[str]:
        async with gate:
            return await site.get(url)

    while level:
        found = await asyncio.gather(*(fetch(url) for url in level))
        level = []
        for links in found:
            for link in links:
                if link not in seen:
                    seen.add(link)
                    level.append(link)
    return seen
