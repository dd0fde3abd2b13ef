# expect: full
# style: httpx.AsyncClient with gather and base_url
import httpx


async def fetch_pages(base_url: str, paths: list[str]) -> list[str]:
    """All requests at the same time on one client that knows the base URL."""
    async with httpx.AsyncClient(base_url=base_url) as client:
        responses = await asyncio.gather(*(client.get(path) for path in paths))
    return [r.text for r in responses]
