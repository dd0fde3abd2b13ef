# expect: full
# style: collections.abc and asyncio
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
