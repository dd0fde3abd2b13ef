# expect: 1
# mistake: takes every object of a collections.abc.Coroutine subclass for a coroutine object, although only calling an `async def` function makes one
# proves: visible checks pass
# feedback: gave 'coroutine' but should give 'awaitable'
import asyncio
import collections.abc


def kind(obj: object) -> str:
    """Ask asyncio about functions and the abstract base classes about objects."""
    if asyncio.iscoroutinefunction(obj):
        return "coroutine function"
    if isinstance(obj, collections.abc.Coroutine):
        return "coroutine"
    if isinstance(obj, collections.abc.Awaitable):
        return "awaitable"
    return "other"
