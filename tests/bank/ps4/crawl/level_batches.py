# expect: 1
# mistake: fetches one level of links at a time in batches of `limit`, so a slot waits for the slower fetch of its batch while pages are waiting
# feedback: one of the 2 slots sat idle while `site.get('/c')` was waiting to start
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
