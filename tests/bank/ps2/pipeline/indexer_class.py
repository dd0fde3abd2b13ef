# expect: full
# style: class
class Indexer:
    """Indexes one page; keeps what each step produced."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.words: list[str] = []

    async def run(self) -> int:
        self.words = await parse(await download(self.url))
        return await save(self.words)


async def pipeline(url: str) -> int:
    return await Indexer(url).run()
