# expect: 1
# mistake: only renames things; time.sleep still blocks the event loop
# feedback: blocked
# feedback: time.sleep
async def bake(name: str, seconds: float) -> str:
    oven_time = seconds
    time.sleep(oven_time)
    return f"{name} baked in {seconds} s"
