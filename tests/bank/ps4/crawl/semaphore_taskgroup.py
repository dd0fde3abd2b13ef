# expect: full
# style: Semaphore and a TaskGroup, a task per discovered page
async def crawl(site: FakeSite, start: str, limit: int) -> set[str]:
    seen = {start}
    gate = asyncio.Semaphore(limit)

    async def visit(url: str, group: asyncio.TaskGroup) -> None:
        async with gate:
            links = await site.get(url)
        for link in links:
            if link not in seen:
                seen.add(link)
                group.create_task(visit(link, group))

    async with asyncio.TaskGroup() as group:
        group.create_task(visit(start, group))
    return seen
