# expect: 0
# mistake: takes anything callable for a coroutine function
# feedback: should give 'other'
import inspect


def kind(obj: object) -> str:
    if inspect.iscoroutine(obj):
        return "coroutine"
    if inspect.isawaitable(obj):
        return "awaitable"
    if callable(obj):
        return "coroutine function"
    return "other"
