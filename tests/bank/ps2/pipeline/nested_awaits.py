# expect: full
# style: nested awaits in one expression
async def pipeline(url: str) -> int:
    """Download, parse and save the page at `url`; return the number `save` reports."""
    return await save(await parse(await download(url)))
