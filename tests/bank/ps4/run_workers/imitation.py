# expect: 0
# mistake: never calls `work`: waits as long as the jobs would take and makes each result itself
# feedback: never called `work`
async def run_workers(jobs: dict[str, float], workers: int) -> dict[str, str]:
    ends = [0.0] * workers
    for seconds in jobs.values():
        ends[ends.index(min(ends))] += seconds
    await asyncio.sleep(max(ends, default=0.0))
    return {job: job.upper() for job in jobs}
