# expect: full
# style: httpx.AsyncClient, one request after another
import httpx


async def fetch_pages(base_url: str, paths: list[str]) -> list[str]:
    """One client for all pages; each request awaited in turn."""
    async with httpx.AsyncClient() as client:
        texts = []
        for path in paths:
            response = await client.get(base_url + path)
            texts.append(response.text)
    return texts
