# expect: full
# style: limit workers on a Queue
async def crawl(site: FakeSite, start: str, limit: int) -> set[str]:
    """`limit` workers share a queue of URLs still to fetch; join() says when all are done."""
    seen = {start}
    todo: asyncio.Queue[str] = asyncio.Queue()
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
