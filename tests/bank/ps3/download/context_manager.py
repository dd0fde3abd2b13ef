# expect: full
# style: contextlib.contextmanager
import contextlib


@contextlib.contextmanager
def opened(name: str, open_files: set[str]):
    """Mark `name` open for the duration of the with block, however it ends."""
    open_files.add(name)
    try:
        yield
    finally:
        open_files.remove(name)


async def download(name: str, chunks: int, open_files: set[str]) -> str:
    with opened(name, open_files):
        for _ in range(chunks):
            await asyncio.sleep(1.0)
    return name
