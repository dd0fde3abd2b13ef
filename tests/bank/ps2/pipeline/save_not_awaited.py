# expect: 0
# mistake: returns save(words) without awaiting it, so the caller gets a coroutine object
# feedback: never awaited
# feedback: save
async def pipeline(url: str) -> int:
    text = await download(url)
    words = await parse(text)
    return save(words)
