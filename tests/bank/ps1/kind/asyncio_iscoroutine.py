# expect: 1
# mistake: asks asyncio.iscoroutine, which also says True for coroutine look-alikes and, on Python 3.11, for generators
# feedback: gave 'coroutine' but should give
import asyncio
import inspect


def kind(obj: object) -> str:
    if inspect.iscoroutinefunction(obj):
        return "coroutine function"
    if asyncio.iscoroutine(obj):
        return "coroutine"
    if inspect.isawaitable(obj):
        return "awaitable"
    return "other"
