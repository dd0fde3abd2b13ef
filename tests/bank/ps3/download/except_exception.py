# expect: 1
# mistake: cleans up in `except Exception`, which CancelledError (a BaseException) skips
# feedback: open_files after cancelling
async def download(name: str, chunks: int, open_files: set[str]) -> str:
    open_files.add(name)
    try:
        for _ in range(chunks):
            await asyncio.sleep(1.0)
    except Exception:
        open_files.discard(name)
        raise
    open_files.discard(name)
    return name
