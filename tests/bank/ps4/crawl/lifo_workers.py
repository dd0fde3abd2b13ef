# expect: full
# style: limit workers on a LifoQueue (newest page first)
# proves: another schedule
async def crawl(site: FakeSite, start: str, limit: int) -> set[str]:
    """Newest links first: depth first rather than level by level; any order keeps the rules."""
    seen = {start}
    todo: asyncio.LifoQueue[str] = asyncio.LifoQueue()
    todo.put_nowait(start)

    async def worker() -> None:
        while True:
            url = await todo.get()
            try:
                for link in await site.get(url):
                    if link not in seen:
                        seen.add(link)
                        todo.put_nowait(link)
            finally:
                todo.task_done()

    workers = [asyncio.create_task(worker()) for _ in range(limit)]
    await todo.join()
    for w in workers:
        w.cancel()
    await asyncio.gather(*workers, return_exceptions=True)
    return seen
