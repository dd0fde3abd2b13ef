# expect: 1
# mistake: cleans up on CancelledError but swallows it and returns, so the task never ends cancelled
# feedback: re-raise CancelledError
async def download(name: str, chunks: int, open_files: set[str]) -> str:
    open_files.add(name)
    try:
        for _ in range(chunks):
            await asyncio.sleep(1.0)
    except asyncio.CancelledError:
        open_files.discard(name)
        return name
    open_files.discard(name)
    return name
