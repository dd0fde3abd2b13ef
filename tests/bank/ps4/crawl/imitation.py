# expect: 0
# mistake: reads the links straight from `site.pages` instead of fetching the pages with `site.get`
# feedback: the pages fetched with site.get
# feedback: was waiting to start (it never started)
async def crawl(site: FakeSite, start: str, limit: int) -> set[str]:
    seen = {start}
    todo = [start]
    while todo:
        url = todo.pop()
        for link in site.pages[url][1]:
            if link not in seen:
                seen.add(link)
                todo.append(link)
    await asyncio.sleep(1.0)
    return seen
