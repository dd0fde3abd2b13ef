# expect: 1
# mistake: cleans up only after the loop, which a cancellation never reaches
# feedback: open_files after cancelling
async def download(name: str, chunks: int, open_files: set[str]) -> str:
    open_files.add(name)
    for _ in range(chunks):
        await asyncio.sleep(1.0)
    open_files.discard(name)
    return name
