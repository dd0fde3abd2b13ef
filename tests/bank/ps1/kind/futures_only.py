# expect: 1
# mistake: counts only asyncio Futures (and Tasks) as awaitable, not objects with __await__
# feedback: should give 'awaitable'
import asyncio
import inspect


def kind(obj: object) -> str:
    if inspect.iscoroutinefunction(obj):
        return "coroutine function"
    if inspect.iscoroutine(obj):
        return "coroutine"
    if isinstance(obj, asyncio.Future):
        return "awaitable"
    return "other"
