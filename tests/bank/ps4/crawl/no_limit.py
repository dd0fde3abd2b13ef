# expect: 1
# mistake: fetches every page of a level at once, ignoring the limit
# feedback: at most 2 may run at once
async def crawl(site: FakeSite, start: str, limit: int) -> set[str]:
    seen = {start}
    level = [start]
    while level:
        pages = await asyncio.gather(*(site.get(url) for url in level))
        level = []
        for links in pages:
            for link in links:
                if link not in seen:
                    seen.add(link)
                    level.append(link)
    return seen
