# expect: full
# style: ExitStack callback
import contextlib


async def download(name: str, chunks: int, open_files: set[str]) -> str:
    with contextlib.ExitStack() as stack:
        open_files.add(name)
        stack.callback(open_files.discard, name)
        await asyncio.sleep(1.0 * chunks)
    return name
