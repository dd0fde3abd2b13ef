# expect: full
# style: except CancelledError, clean up, raise
async def download(name: str, chunks: int, open_files: set[str]) -> str:
    open_files.add(name)
    try:
        for _ in range(chunks):
            await asyncio.sleep(1.0)
    except asyncio.CancelledError:
        open_files.discard(name)
        raise
    open_files.discard(name)
    return name
