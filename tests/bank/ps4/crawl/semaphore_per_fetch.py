# expect: 1
# mistake: creates a new Semaphore inside each fetch, so no two fetches share it and nothing is limited
# feedback: at most 2 may run at once
async def crawl(site: FakeSite, start: str, limit: int) -> set[str]:
    seen = {start}

    async def visit(url: str, group: asyncio.TaskGroup) -> None:
        async with asyncio.Semaphore(limit):
            links = await site.get(url)
        for link in links:
            if link not in seen:
                seen.add(link)
                group.create_task(visit(link, group))

    async with asyncio.TaskGroup() as group:
        group.create_task(visit(start, group))
    return seen
