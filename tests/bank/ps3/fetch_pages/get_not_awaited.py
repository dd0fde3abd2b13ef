# expect: 0
# mistake: uses AsyncClient but forgets to await client.get, so it collects coroutine objects
# feedback: never awaited
import httpx


async def fetch_pages(base_url: str, paths: list[str]) -> list[str]:
    async with httpx.AsyncClient() as client:
        responses = [client.get(base_url + path) for path in paths]
    return [r.text for r in responses]
