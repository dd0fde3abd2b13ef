# expect: 1
# mistake: removes the file from open_files only when cancelled, not when the download finishes
# proves: visible checks pass
# feedback: (result, open_files) of a download that finished gave
async def download(name: str, chunks: int, open_files: set[str]) -> str:
    open_files.add(name)
    try:
        for _ in range(chunks):
            await asyncio.sleep(1.0)
    except asyncio.CancelledError:
        open_files.discard(name)
        raise
    return name
