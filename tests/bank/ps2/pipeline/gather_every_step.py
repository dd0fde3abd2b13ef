# expect: 0
# mistake: runs the three steps at the same time with gather, so parse and save never see the page
# feedback: should give 5
async def pipeline(url: str) -> int:
    text, words, count = await asyncio.gather(download(url), parse(url), save(url))
    return count
