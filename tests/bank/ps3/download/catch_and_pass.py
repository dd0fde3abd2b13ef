# expect: 1
# mistake: catches CancelledError around each chunk and carries on, so the task cannot be stopped
# feedback: re-raise CancelledError
async def download(name: str, chunks: int, open_files: set[str]) -> str:
    open_files.add(name)
    for _ in range(chunks):
        try:
            await asyncio.sleep(1.0)
        except asyncio.CancelledError:
            pass
    open_files.discard(name)
    return name
