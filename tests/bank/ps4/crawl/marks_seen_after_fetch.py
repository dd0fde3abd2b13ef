# expect: 1
# mistake: marks a page as seen only once fetched, so two tasks can fetch the same page at once
# feedback: the pages fetched with site.get (each once)
async def crawl(site: FakeSite, start: str, limit: int) -> set[str]:
    seen: set[str] = set()
    gate = asyncio.Semaphore(limit)

    async def visit(url: str, group: asyncio.TaskGroup) -> None:
        async with gate:
            links = await site.get(url)
        seen.add(url)
        for link in links:
            if link not in seen:
                group.create_task(visit(link, group))

    async with asyncio.TaskGroup() as group:
        group.create_task(visit(start, group))
    return seen
