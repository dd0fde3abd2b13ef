# expect: full
# style: code flags and types
import inspect
import types


def kind(obj: object) -> str:
    """An async def function's code carries the CO_COROUTINE flag."""
    code = getattr(obj, "__code__", None)
    if callable(obj) and code is not None and code.co_flags & inspect.CO_COROUTINE:
        return "coroutine function"
    if type(obj) is types.CoroutineType:
        return "coroutine"
    if hasattr(type(obj), "__await__"):
        return "awaitable"
    return "other"
