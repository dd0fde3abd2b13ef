# expect: 0
# mistake: forgets `await` before parse, so save gets a coroutine object instead of the words
# feedback: never awaited
# feedback: parse
async def pipeline(url: str) -> int:
    text = await download(url)
    words = parse(text)
    return await save(words)
