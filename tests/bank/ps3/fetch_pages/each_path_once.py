# expect: 1
# mistake: fetches each different path once, forgetting that a path may be asked for twice
# proves: visible checks pass
# feedback: the texts of /c, /a, /c and /b gave
import httpx


async def fetch_pages(base_url: str, paths: list[str]) -> list[str]:
    unique = list(dict.fromkeys(paths))
    async with httpx.AsyncClient(base_url=base_url) as client:
        responses = await asyncio.gather(*(client.get(path) for path in unique))
    return [response.text for response in responses]
