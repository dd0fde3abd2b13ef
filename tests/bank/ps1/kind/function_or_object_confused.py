# expect: 1
# mistake: calls both the coroutine function and the coroutine object a "coroutine"
# feedback: should give 'coroutine function'
import inspect


def kind(obj: object) -> str:
    if inspect.iscoroutinefunction(obj) or inspect.iscoroutine(obj):
        return "coroutine"
    if inspect.isawaitable(obj):
        return "awaitable"
    return "other"
