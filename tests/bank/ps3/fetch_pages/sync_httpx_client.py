# expect: 1
# mistake: uses httpx's synchronous Client instead of AsyncClient, so it still blocks the loop
# feedback: blocking network call
import httpx


async def fetch_pages(base_url: str, paths: list[str]) -> list[str]:
    with httpx.Client() as client:
        return [client.get(base_url + path).text for path in paths]
