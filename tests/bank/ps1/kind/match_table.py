# expect: full
# style: match statement
import inspect
import types


def kind(obj: object) -> str:
    match obj:
        case types.CoroutineType():
            return "coroutine"
        case _ if inspect.iscoroutinefunction(obj):
            return "coroutine function"
        case _ if inspect.isawaitable(obj):
            return "awaitable"
        case _:
            return "other"
