# expect: full
# style: a new AsyncClient per page, TaskGroup
import httpx


async def fetch_one(url: str) -> str:
    async with httpx.AsyncClient(timeout=10.0) as client:
        response = await client.get(url)
        response.raise_for_status()
        return response.text


async def fetch_pages(base_url: str, paths: list[str]) -> list[str]:
    async with asyncio.TaskGroup() as tg:
        tasks = [tg.create_task(fetch_one(base_url + p)) for p in paths]
    return [t.result() for t in tasks]
