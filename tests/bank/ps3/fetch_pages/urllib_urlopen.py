# expect: 1
# mistake: swaps requests for urllib, which blocks the event loop just the same
# feedback: urllib.request.urlopen
# feedback: blocking network call
import urllib.request


async def fetch_pages(base_url: str, paths: list[str]) -> list[str]:
    texts = []
    for path in paths:
        with urllib.request.urlopen(base_url + path) as reply:
            texts.append(reply.read().decode())
    return texts
