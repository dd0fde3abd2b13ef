# expect: full
# style: one await per step
async def pipeline(url: str) -> int:
    """Download, parse and save the page at `url`; return the number `save` reports."""
    text = await download(url)
    words = await parse(text)
    count = await save(words)
    return count
