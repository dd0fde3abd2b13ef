# expect: full
# style: keep requests, in worker threads (asyncio.to_thread)
import requests


def get_text(url: str) -> str:
    return requests.get(url, timeout=10).text


async def fetch_pages(base_url: str, paths: list[str]) -> list[str]:
    """The blocking calls run in threads, so the loop itself never waits for them."""
    return list(await asyncio.gather(*(asyncio.to_thread(get_text, base_url + p) for p in paths)))
