# expect: full
# style: inspect
import inspect


def kind(obj: object) -> str:
    if inspect.iscoroutinefunction(obj):
        return "coroutine function"
    if inspect.iscoroutine(obj):
        return "coroutine"
    return "awaitable" if inspect.isawaitable(obj) else "other"
