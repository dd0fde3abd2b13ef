# expect: full
# style: breadth first, one level at a time in batches of `limit` with gather
async def crawl(site: FakeSite, start: str, limit: int) -> set[str]:
    seen = {start}
    level = [start]
    while level:
        found = []
        for i in range(0, len(level), limit):
            batch = level[i:i + limit]
            for links in await asyncio.gather(*(site.get(url) for url in batch)):
                found.extend(links)
        level = []
        for link in found:
            if link not in seen:
                seen.add(link)
                level.append(link)
    return seen
