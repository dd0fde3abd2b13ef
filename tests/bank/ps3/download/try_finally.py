# expect: full
# style: try/finally
async def download(name: str, chunks: int, open_files: set[str]) -> str:
    open_files.add(name)
    try:
        for _ in range(chunks):
            await asyncio.sleep(1.0)
        return name
    finally:
        open_files.discard(name)
