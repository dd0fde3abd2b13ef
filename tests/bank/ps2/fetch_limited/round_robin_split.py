# expect: 1
# mistake: deals the delays out to `limit` workers in advance, so a worker that finishes its share early sits idle while another still has fetches waiting
# proves: visible checks pass
# feedback: sat idle while `fetch(1.0)` was waiting to start
async def fetch_limited(delays: list[float], limit: int) -> list[float]:
    results = [0.0] * len(delays)

    async def worker(first: int) -> None:
        for i in range(first, len(delays), limit):
            results[i] = await fetch(delays[i])

    await asyncio.gather(*(worker(w) for w in range(limit)))
    return results
