"""Which asyncio APIs a piece of code uses: a small AST scan for the syllabus test.

An API is named the way a learner meets it:

- ``asyncio.gather``, ``asyncio.FIRST_COMPLETED``, ``httpx.AsyncClient``, ``nest_asyncio.apply``
  (an attribute of one of ``MODULES``, however it was imported);
- ``asyncio.gather(return_exceptions=)``: a keyword argument given to such a function;
- ``.add_done_callback()``: a method call whose name only asyncio's objects have (``METHODS``);
- ``Queue.join()``: a method whose name is too common to count on its own (``join``, ``get``,
  ``set``, ``wait``...), called on a name or attribute the same code made or annotated as that
  asyncio class (``queue: asyncio.Queue = ...``, ``self.gate = asyncio.Semaphore(2)``, a
  parameter ``queue: asyncio.Queue``); ``async with Semaphore`` likewise.

Python's own type checkers would be the thorough way to know a receiver's type; this is enough
for the course's short solutions, and it errs on the side of reporting an API as used.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from dataclasses import dataclass, field

MODULES = ("asyncio", "httpx", "aiohttp", "nest_asyncio")
# method names that, in this course, only asyncio's objects have
METHODS = frozenset({
    "add_done_callback", "remove_done_callback", "cancel", "cancelled", "uncancel", "result",
    "exception", "done", "task_done", "put_nowait", "get_nowait", "create_future",
    "create_task", "call_later", "call_at", "call_soon", "call_soon_threadsafe", "set_result",
    "set_exception", "run_in_executor", "run_until_complete", "get_coro", "__await__",
    "start_server", "open_connection", "drain", "wait_closed", "readline",
})
# common method names, counted only on a receiver known to be of one of these asyncio classes
TYPED_METHODS = {
    "Queue": {"join", "get", "put", "qsize", "empty", "full"},
    "Event": {"wait", "set", "clear", "is_set"},
    "Lock": {"acquire", "release", "locked"},
    "Semaphore": {"acquire", "release", "locked"},
    "Condition": {"wait", "notify", "notify_all", "acquire", "release"},
}
for _queue in ("PriorityQueue", "LifoQueue"):
    TYPED_METHODS[_queue] = TYPED_METHODS["Queue"]
TYPED_METHODS["BoundedSemaphore"] = TYPED_METHODS["Semaphore"]


@dataclass
class Uses:
    """APIs found, each with the first line it was seen on."""

    first_line: dict[str, int] = field(default_factory=dict)

    def add(self, api: str, line: int) -> None:
        self.first_line.setdefault(api, line)

    def __contains__(self, api: str) -> bool:
        return api in self.first_line


def parse_cell(source: str) -> ast.Module:
    """A notebook cell's code: IPython ``%``/``!`` lines blanked, top-level ``await`` allowed."""
    lines = ["" if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines()]
    flags = ast.PyCF_ONLY_AST | ast.PyCF_ALLOW_TOP_LEVEL_AWAIT
    tree = compile("\n".join(lines), "<cell>", "exec", flags=flags)
    assert isinstance(tree, ast.Module)
    return tree


def _dotted(node: ast.AST) -> str | None:
    """``self.queue`` for an attribute chain of names, ``queue`` for a name, else None."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        inner = _dotted(node.value)
        return f"{inner}.{node.attr}" if inner else None
    return None


class Scanner:
    """Scans cells in order, remembering imports and the asyncio objects names refer to."""

    def __init__(self) -> None:
        self.modules = {name: name for name in MODULES}  # local name -> module
        self.imported: dict[str, str] = {}  # local name -> "asyncio.Queue"
        self.kinds: dict[str, str] = {}  # "self.queue" -> "Queue"

    def _api(self, node: ast.AST) -> str | None:
        """``asyncio.Queue`` for ``asyncio.Queue`` / ``aio.Queue`` / ``Queue`` imported from it."""
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            module = self.modules.get(node.value.id)
            if module:
                return f"{module}.{node.attr}"
        if isinstance(node, ast.Name):
            return self.imported.get(node.id)
        return None

    def _kind_of(self, node: ast.AST | None) -> str | None:
        """The asyncio class a value or an annotation stands for: ``Queue`` for
        ``asyncio.Queue()``, ``asyncio.Queue[int]``, ``"asyncio.Queue[int]"``."""
        if node is None:
            return None
        if isinstance(node, ast.Call):
            node = node.func
        if isinstance(node, ast.Subscript):
            node = node.value
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            try:
                node = ast.parse(node.value, mode="eval").body
            except SyntaxError:
                return None
            return self._kind_of(node)
        api = self._api(node)
        if api and api.startswith("asyncio.") and api.split(".", 1)[1] in TYPED_METHODS:
            return api.split(".", 1)[1]
        return None

    def _learn(self, tree: ast.AST) -> None:
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name in MODULES:
                        self.modules[alias.asname or alias.name] = alias.name
            elif isinstance(node, ast.ImportFrom) and node.module in MODULES:
                for alias in node.names:
                    self.imported[alias.asname or alias.name] = f"{node.module}.{alias.name}"
            elif isinstance(node, ast.Assign | ast.AnnAssign):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                annotation = node.annotation if isinstance(node, ast.AnnAssign) else None
                kind = self._kind_of(annotation) or self._kind_of(node.value)
                for target in targets:
                    name = _dotted(target)
                    if kind and name:
                        self.kinds[name] = kind
            elif isinstance(node, ast.arg):
                kind = self._kind_of(node.annotation)
                if kind:
                    self.kinds[node.arg] = kind

    def scan(self, source: str, lines: Iterable[int] | None = None) -> Uses:
        """The APIs ``source`` uses (only on ``lines``, 1-based, if given)."""
        tree = parse_cell(source)
        self._learn(tree)
        wanted = set(lines) if lines is not None else None
        uses = Uses()
        for node in ast.walk(tree):
            line = getattr(node, "lineno", 0)
            if wanted is not None and line not in wanted:
                continue
            api = self._api(node) if isinstance(node, ast.Attribute | ast.Name) else None
            if api:
                uses.add(api, line)
            if isinstance(node, ast.AsyncWith):
                for item in node.items:
                    kind = self.kinds.get(_dotted(item.context_expr) or "")
                    if kind:
                        uses.add(f"async with {kind}", line)
            if isinstance(node, ast.Call):
                called = self._api(node.func)
                if called:
                    for keyword in node.keywords:
                        if keyword.arg:
                            uses.add(f"{called}({keyword.arg}=)", line)
                if isinstance(node.func, ast.Attribute) and not called:
                    method = node.func.attr
                    receiver = _dotted(node.func.value)
                    kind = self.kinds.get(receiver or "")
                    if kind and method in TYPED_METHODS[kind]:
                        uses.add(f"{kind}.{method}()", line)
                    elif method in METHODS:
                        uses.add(f".{method}()", line)
        return uses
