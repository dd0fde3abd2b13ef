# expect: 1
# mistake: returns from the finally block, which silently swallows the CancelledError
# feedback: re-raise CancelledError
async def download(name: str, chunks: int, open_files: set[str]) -> str:
    open_files.add(name)
    try:
        for _ in range(chunks):
            await asyncio.sleep(1.0)
    finally:
        open_files.discard(name)
        return name
