# expect: 0
# mistake: never calls the three steps: waits as long as they would take and counts the words of PAGES itself
# proves: visible checks pass
# feedback: never called `download`
async def pipeline(url: str) -> int:
    await asyncio.sleep(1.75)
    return len(set(PAGES[url].lower().replace(",", "").split()))
