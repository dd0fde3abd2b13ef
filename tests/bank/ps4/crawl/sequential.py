# expect: 1
# mistake: awaits each fetch in turn, so it never uses the allowed concurrency
# feedback: the fetches ran one after another
async def crawl(site: FakeSite, start: str, limit: int) -> set[str]:
    seen = {start}
    todo = [start]
    while todo:
        url = todo.pop(0)
        for link in await site.get(url):
            if link not in seen:
                seen.add(link)
                todo.append(link)
    return seen
