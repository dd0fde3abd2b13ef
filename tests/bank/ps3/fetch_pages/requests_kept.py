# expect: 1
# mistake: keeps requests.get inside the coroutine, which blocks the whole event loop
# feedback: requests.get
# feedback: blocking network call
import requests


async def fetch_pages(base_url: str, paths: list[str]) -> list[str]:
    texts = []
    for path in paths:
        texts.append(requests.get(base_url + path).text)
    return texts
