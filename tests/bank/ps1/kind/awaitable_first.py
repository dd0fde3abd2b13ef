# expect: 1
# mistake: asks "is it awaitable?" before "is it a coroutine?", and every coroutine is awaitable
# feedback: should give 'coroutine'
import inspect


def kind(obj: object) -> str:
    if inspect.iscoroutinefunction(obj):
        return "coroutine function"
    if inspect.isawaitable(obj):
        return "awaitable"
    if inspect.iscoroutine(obj):
        return "coroutine"
    return "other"
