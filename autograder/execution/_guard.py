"""The grader's guard inside the learner's kernel: did each locked cell really run, untampered?

Why. A test cell's outcome must not be decided from what its outputs look like, nor from the
kernel's execute reply alone: learner code runs in the same interpreter, before and inside the
tests, and can hide an exception (a custom exception handler, a replaced ``showtraceback``, a
``post_run_cell`` callback that clears the error), rewrite a test before it runs (input or AST
transformers), or replace what the tests rely on (``asyncio.sleep``, ``asyncourse``, builtins,
the notebook's own names). So the runner installs this guard before any learner code runs, and a
graded cell passes only with the guard's evidence that its last line ran and nothing the tests
rely on had changed (checked before the cell, before each of its statements, and after it).

How. `install` reads a per-run key from a file the host wrote (and deletes it), captures
references to what the tests rely on, and registers an audit hook (``sys.addaudithook``), which
Python offers no way to list or remove. The key lives only in that hook's closure. The hook:

- on ``grader.pre`` (from its ``pre_run_cell`` callback) starts a locked cell: the cell must be the
  runner's (a ``# grader-check <nonce>`` line), IPython's transform of it must be the genuine
  one, and the state is compared with the references;
- on every ``exec`` of the cell's code (IPython executes a cell one top-level statement at a
  time), checks that the code object is exactly what the cell's source compiles to and compares
  the state again, so a patch made by learner code that a test statement called, and still in
  place at the next statement, is seen;
- on ``grader.done`` (the last statement of a graded cell, added by the runner) notes that the
  last line ran, but only when raised by that statement's own code;
- on ``grader.post`` (its ``post_run_cell`` callback, accepted only when IPython's own
  ``run_cell`` triggered it with no notebook code on the stack) compares the state a last time
  and appends one line of evidence to a file the runner reads:
  ``nonce, ok, sha256(cell), problem, HMAC(key, ...)``. Without the key no evidence can be made,
  so the runner counts a graded cell as passed only with a valid line that says ``ok``.
- burns the key (zeroes it) when learner code reaches for what could expose it: ``gc``'s object
  lists, ``ctypes``, tracing and profiling hooks, ``sys.monitoring``, another audit hook, frames
  of other threads, a function's ``__code__`` being replaced. Every later graded cell then fails
  and the runner names the reason.

What a change is: any entry of the watched modules (builtins, asyncio, asyncourse, math,
operator, inspect, nest_asyncio, ...) or of their classes replaced or removed; a Python
function's ``__code__``/``__defaults__`` changed; IPython's shell, event callbacks, input and AST
transformers, exception handling and displayhook; the kernel's execute path and session; sys
hooks, tracing, profiling; signal handlers and timers; ``gc`` callbacks; a ``weakref.finalize``
whose function the notebook defined; a thread the notebook started (its function or any frame of
it is notebook code, or it is a ``threading.Timer``) that is still running; a name that a locked
cell bound to a function, class or module, rebound by the notebook. Allowed: what the course
itself registers (matplotlib's and its inline backend's callbacks) and the changes
``nest_asyncio.apply()`` makes. Not watched: ``atexit`` (the runner ends the kernel without
exiting it, so those functions never run).

This file runs inside the kernel (standard library and IPython only) and is bound into the
sandbox on its own, next to the runner. Its limits are in the threat model (`_sandbox`).
"""

from __future__ import annotations

import sys
from typing import Any

EVIDENCE_NAME = ".grader-evidence"
KEY_NAME = ".grader-key"
CHECK_MARK = "# grader-check "
DONE_LINE = '__import__("sys").audit("grader.done")'
WATCHED_PREFIXES = (
    "asyncio", "asyncourse", "math", "operator", "inspect", "functools", "itertools",
    "collections", "types", "warnings", "time", "contextlib", "nest_asyncio", "copy", "json",
    "IPython.core.interactiveshell", "IPython.core.events", "IPython.core.compilerop",
    "IPython.core.displayhook", "IPython.core.inputtransformer2", "ipykernel.ipkernel",
    "ipykernel.kernelbase", "ipykernel.zmqshell", "jupyter_client.session",
)  # fmt: skip
#: Module globals that change during honest work (lazily created state), never compared.
MUTABLE_GLOBALS = frozenset({
    "_event_loop_policy", "_running_loop", "_lock", "_cache", "_counter", "_active",
    "_limbo", "_shutdown_locks", "_dangling", "filters", "_filters_version", "onceregistry",
    "defaultaction", "_nest_patched", "__warningregistry__", "_current_tasks",
    "input", "raw_input", "_", "__", "___", "exit", "quit", "get_ipython",  # the kernel and
    # IPython put these in builtins around each execution
})  # fmt: skip
SHELL_ATTRIBUTES = (
    "run_cell", "run_cell_async", "_run_cell", "run_ast_nodes", "run_code", "transform_cell",
    "transform_ast", "showtraceback", "_showtraceback", "showsyntaxerror", "excepthook",
    "custom_exceptions", "CustomTB", "compile", "displayhook", "display_pub", "events",
    "input_transformer_manager", "user_ns", "user_global_ns", "ast_node_interactivity",
    "autoawait", "loop_runner", "should_run_async",
)  # fmt: skip
KERNEL_ATTRIBUTES = ("do_execute", "execute_request", "send_response", "session", "shell")
SESSION_ATTRIBUTES = ("send", "serialize", "sign", "msg")
BURN_EVENTS = (
    "gc.get_objects", "gc.get_referrers", "gc.get_referents", "sys.settrace", "sys.setprofile",
    "sys.addaudithook", "sys._current_frames", "sys._current_exceptions",
    "sys.monitoring.register_callback", "sys.monitoring.use_tool_id",
)  # fmt: skip


def pre_run_cell(info: Any, audit: Any = sys.audit) -> None:
    """IPython's ``pre_run_cell`` callback: hands the cell to the hook (shares nothing with it)."""
    audit("grader.pre", info.raw_cell, getattr(info, "transformed_cell", None))


def post_run_cell(result: Any, audit: Any = sys.audit) -> None:
    """IPython's ``post_run_cell`` callback: hands the cell's end to the hook."""
    ok = result is not None and result.error_before_exec is None and result.error_in_exec is None
    audit("grader.post", result.info.raw_cell if result is not None else "", ok)


def install(key_path: str, evidence_path: str) -> None:
    """Install the guard in this kernel; called once by the runner, before any learner code.

    Everything the hook uses is a local of this function, captured before learner code runs, so
    the hook's closure is the only way to it (no global, no builtin looked up when it runs): the
    callbacks above, which the notebook can reach, share nothing with it.
    """
    import __future__

    import _hashlib
    import ast
    import contextlib
    import gc
    import hashlib
    import importlib
    import os
    import signal
    import sys
    import threading
    import types
    import weakref

    from IPython import get_ipython
    from IPython.core.events import EventManager
    from IPython.core.interactiveshell import InteractiveShell

    # The hook looks up no global and no builtin when it runs: these are its own, from now.
    b_isinstance = isinstance
    b_type = type
    b_id = id
    b_len = len
    b_getattr = getattr
    b_tuple = tuple
    b_sorted = sorted
    b_str = str
    b_list = list
    b_dict = dict
    b_set = set
    b_range = range
    b_enumerate = enumerate
    b_int = int
    b_callable = callable
    b_vars = vars
    b_staticmethod = staticmethod
    b_classmethod = classmethod
    b_bytes = bytes
    b_bytearray = bytearray
    b_ValueError = ValueError
    b_OSError = OSError
    b_SyntaxError = SyntaxError
    b_BaseException = BaseException
    b_open = open
    b_zip = zip
    b_hasattr = hasattr
    b_bool = bool
    b_frozenset = frozenset
    compile_ = compile
    watched_prefixes, mutable_globals = WATCHED_PREFIXES, MUTABLE_GLOBALS
    shell_attributes, kernel_attributes = SHELL_ATTRIBUTES, KERNEL_ATTRIBUTES
    session_attributes, burn_events, check_mark = SESSION_ATTRIBUTES, BURN_EVENTS, CHECK_MARK

    for name in ("asyncio", "asyncourse", "nest_asyncio", "math", "operator", "inspect"):
        with contextlib.suppress(ImportError):
            importlib.import_module(name)
    import asyncio

    asyncio.get_event_loop_policy()  # created lazily otherwise: a change nobody made

    with b_open(key_path, "rb") as f:
        key = b_bytearray(f.read())
    os.unlink(key_path)
    fd = os.open(evidence_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)

    shell = get_ipython()
    kernel = b_getattr(shell, "kernel", None)
    # `exit()` in a cell stops the kernel's loop 0.1 s later: whether the next cells still run
    # would depend on how busy the machine is. Here it does nothing, so a grade cannot either
    # (the scan still marks the call for review).
    shell.ask_exit = lambda: None
    hmac_digest = _hashlib.hmac_digest
    sha256 = hashlib.sha256
    write = os.write
    getframe = sys._getframe
    current_frames = sys._current_frames
    gettrace, getprofile = sys.gettrace, sys.getprofile
    getsignal, getitimer, valid_signals = signal.getsignal, signal.getitimer, signal.valid_signals
    timers = (signal.ITIMER_REAL, signal.ITIMER_VIRTUAL, signal.ITIMER_PROF)
    sigint = signal.SIGINT
    import ipykernel

    kernel_dir = os.path.dirname(ipykernel.__file__) + os.sep
    get_ident, main_ident = threading.get_ident, threading.main_thread().ident
    dict_items, dict_get = b_dict.items, b_dict.get
    ast_parse = ast.parse
    code_type, function_type, module_type = types.CodeType, types.FunctionType, types.ModuleType
    method_type = types.MethodType
    expr_type, module_node, interactive_node = ast.Expr, ast.Module, ast.Interactive
    assign_targets = (ast.Assign, ast.AnnAssign, ast.AugAssign, ast.Import, ast.ImportFrom,
                      ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.For, ast.With)
    ast_walk, name_node, alias_node = ast.walk, ast.Name, ast.alias
    tla = b_getattr(ast, "PyCF_ALLOW_TOP_LEVEL_AWAIT", 0)
    future_mask = 0
    for feature in __future__.all_feature_names:
        future_mask |= b_getattr(__future__, feature).compiler_flag
    modules = sys.modules
    active_threads: dict[int, Any] = getattr(threading, "_active")  # noqa: B009
    timer_type = threading.Timer
    thread_hooks = threading
    finalize_registry: dict[Any, Any] = getattr(weakref.finalize, "_registry")  # noqa: B009
    gc_callbacks = gc.callbacks
    transform_cell = shell.transform_cell  # the genuine bound methods
    transform_ast = shell.transform_ast
    trigger_code = EventManager.trigger.__code__
    # who may trigger post_run_cell: IPython's run_cell, or ipykernel's do_execute for a cell
    # with top-level await
    runner_codes = {InteractiveShell.run_cell.__code__}
    kernel_class = type(kernel) if kernel is not None else None
    for klass in (kernel_class.__mro__ if kernel_class is not None else ()):
        do_execute = vars(klass).get("do_execute")
        if do_execute is not None and hasattr(do_execute, "__code__"):
            runner_codes.add(do_execute.__code__)
    pre_code, post_code = pre_run_cell.__code__, post_run_cell.__code__
    cell_prefix = os.path.dirname(shell.compile.get_code_name("", "", 0)) + os.sep
    nest_file = b_getattr(modules.get("nest_asyncio"), "__file__", None) or "\0"
    own_code: set[Any] = b_set()
    monitoring = b_getattr(sys, "monitoring", None)
    excepthooks = sys

    # ---- references ------------------------------------------------------------------
    def watched(name: str) -> bool:
        if name == "builtins":
            return True
        for prefix in watched_prefixes:  # noqa: SIM110  (no builtin any() inside the hook)
            if name == prefix or name.startswith(prefix + "."):
                return True
        return False

    ref_modules: dict[str, Any] = {}
    ref_module_dicts: dict[str, dict[str, Any]] = {}
    ref_classes: dict[int, tuple[Any, dict[str, Any]]] = {}
    ref_functions: dict[int, tuple[Any, Any, Any]] = {}
    seen_modules = [0]  # len(sys.modules) when it was last scanned for watched modules

    def remember_function(value: Any, module_name: str) -> None:
        if not module_name.startswith("asyncourse"):
            return  # replacing any function's code is caught as it happens (an audit event)
        if b_isinstance(value, (b_staticmethod, b_classmethod)):
            value = value.__func__
        if b_isinstance(value, function_type) and b_id(value) not in ref_functions:
            ref_functions[b_id(value)] = (value, value.__defaults__, value.__kwdefaults__)

    def remember_module(name: str, mod: Any) -> None:
        entries = {}
        for k, v in dict_items(b_vars(mod)):
            if k not in mutable_globals:
                entries[k] = v
        ref_modules[name] = mod
        ref_module_dicts[name] = entries
        for value in entries.values():
            if b_isinstance(value, b_type) and b_getattr(value, "__module__", "") == name:
                if b_id(value) not in ref_classes:
                    cls_dict = b_dict(b_vars(value))
                    ref_classes[b_id(value)] = (value, cls_dict)
                    for member in cls_dict.values():
                        remember_function(member, name)
            else:
                remember_function(value, name)

    for name, mod in b_list(dict_items(modules)):
        if b_isinstance(mod, module_type) and watched(name):
            remember_module(name, mod)

    def unbound(value: Any) -> Any:
        """A bound method is a new object each time: compare its function and its object."""
        if b_type(value) is method_type:
            return (value.__func__, value.__self__)
        return value

    def shell_state() -> dict[str, Any]:
        state: dict[str, Any] = {}
        for attr in shell_attributes:
            state[f"IPython's `{attr}`"] = unbound(b_getattr(shell, attr, None))
        for attr in ("ast_transformers", "input_transformers_post", "input_transformers_cleanup"):
            state[f"IPython's `{attr}`"] = b_tuple(b_getattr(shell, attr, ()))
        manager = shell.input_transformer_manager
        for attr in ("cleanup_transforms", "line_transforms", "token_transformers"):
            transforms = b_tuple(b_getattr(manager, attr, ()))
            state[f"IPython's input transformers (`{attr}`)"] = transforms
        flags = b_getattr(shell.compile, "flags", 0)
        if b_type(flags) is b_int:
            flags &= ~future_mask
        state["IPython's compiler flags"] = flags
        if kernel is not None:
            for attr in kernel_attributes:
                state[f"the kernel's `{attr}`"] = unbound(b_getattr(kernel, attr, None))
            handlers = []
            for k, v in dict_items(kernel.shell_handlers):
                handlers.append((k, b_id(unbound(v)[0] if b_type(v) is method_type else v)))
            state["the kernel's message handlers"] = b_tuple(b_sorted(handlers))
            session = kernel.session
            for attr in session_attributes:
                state[f"the kernel session's `{attr}`"] = unbound(b_getattr(session, attr, None))
        return state

    def events_state() -> dict[str, tuple[Any, ...]]:
        found = {}
        for event, callbacks in dict_items(shell.events.callbacks):
            found[event] = b_tuple(callbacks)
        return found

    def signals_state() -> dict[Any, Any]:
        found = {}
        for signum in valid_signals():
            try:
                found[signum] = getsignal(signum)
            except (b_OSError, b_ValueError):
                continue
        return found

    def monitoring_tools() -> tuple[Any, ...]:
        if monitoring is None:
            return ()
        return b_tuple(monitoring.get_tool(i) for i in b_range(6))

    ref_shell = shell_state()
    # IPython swaps sys.excepthook and sys.displayhook while a cell executes: the kernel app's
    # around cells, the shell's inside them. Either is genuine.
    app = getattr(kernel, "parent", None)
    ref_sys_hooks = {}
    for attr in ("excepthook", "displayhook", "unraisablehook", "breakpointhook"):
        ref_sys_hooks[attr] = (unbound(getattr(sys, attr, None)),
                               unbound(getattr(app, attr, getattr(sys, attr, None))))
    ref_events: dict[str, tuple[Any, ...]] = {}
    ref_signals = signals_state()
    ref_gc_callbacks = b_tuple(gc_callbacks)
    ref_threads = b_set(active_threads)
    ref_monitoring = monitoring_tools()
    protected: dict[str, Any] = {}  # notebook names a locked cell bound to code or a module

    # ---- comparing -----------------------------------------------------------------------
    def same(a: Any, b: Any) -> bool:
        """Identity, element by element for tuples: never a learner's __eq__ inside the hook."""
        if b_type(a) is b_tuple and b_type(b) is b_tuple:
            if b_len(a) != b_len(b):
                return False
            for x, y in b_zip(a, b):  # noqa: SIM110  (no builtin all() inside the hook)
                if not same(x, y):
                    return False
            return True
        if b_type(a) is b_int and b_type(b) is b_int:
            return b_bool(a == b)
        return a is b

    def allowed_replacement(name: str, attr: str, new: Any) -> bool:
        """The changes nest_asyncio.apply() makes (the course teaches it)."""
        code: Any = b_getattr(new, "__code__", None)
        if b_type(code) is code_type and code.co_filename == nest_file:
            return True
        nested = b_getattr(modules.get("asyncio"), "_nest_patched", False) is True
        return b_bool(nested) and name.startswith("asyncio") and attr in (
            "Task", "Future", "_CTask", "_CFuture", "all_tasks", "get_event_loop",
            "_get_event_loop")

    def from_kernel(handler: Any) -> bool:
        """ipykernel's own SIGINT handler while an async cell runs (it cancels the cell)."""
        code: Any = b_getattr(handler, "__code__", None)
        return b_type(code) is code_type and code.co_filename.startswith(kernel_dir)

    def in_notebook(code: Any) -> bool:
        if b_type(code) is not code_type:
            return False
        filename = code.co_filename
        return b_bool(filename.startswith(cell_prefix) or filename.startswith("<ipython-input"))

    def changed(full: bool) -> str | None:
        """What changed since the references, or None. Between a test's statements (`full`
        False) only what tests use directly: builtins, asyncio's and asyncourse's names, the
        helper package's classes and defaults, locked names, tracing and threads."""
        for name, entries in dict_items(ref_module_dicts):
            if not full and not (name == "builtins" or name.startswith(("asyncio", "asyncourse"))):
                continue
            mod = dict_get(modules, name)
            if mod is not ref_modules[name]:
                if mod is None and name != "builtins":
                    continue  # unloaded: not a patch
                return f"`sys.modules[{name!r}]` was replaced"
            now = b_vars(mod)
            for attr, value in dict_items(entries):
                new = dict_get(now, attr, entries)
                if new is not value and not allowed_replacement(name, attr, new):
                    what = "removed" if new is entries else "replaced"
                    return f"`{name}.{attr}` was {what}"
        for cls, cls_dict in ref_classes.values():
            if not full and not cls.__module__.startswith("asyncourse"):
                continue
            now = b_vars(cls)
            for attr, value in dict_items(cls_dict):
                new = now.get(attr, cls_dict)
                if new is not value and not allowed_replacement(cls.__module__, attr, new):
                    return f"`{cls.__module__}.{cls.__qualname__}.{attr}` was replaced"
            for attr, value in now.items():  # a method added over an inherited one
                if attr not in cls_dict and b_isinstance(value, function_type) and in_notebook(
                        value.__code__):
                    return f"`{cls.__module__}.{cls.__qualname__}.{attr}` was b_set by the notebook"
        for fn, defaults, kwdefaults in ref_functions.values():
            if fn.__defaults__ is not defaults or fn.__kwdefaults__ is not kwdefaults:
                return f"the defaults of `{fn.__module__}.{fn.__qualname__}` were changed"
        if b_getattr(thread_hooks, "_trace_hook", None) is not None or b_getattr(
                thread_hooks, "_profile_hook", None) is not None or gettrace() is not None or (
                getprofile() is not None):
            return "a tracing or profiling function was installed"
        problem = moving_parts()
        if problem or not full:
            return problem
        for what, value in dict_items(shell_state()):
            if not same(value, ref_shell[what]):
                return f"{what} was changed"
        for attr, allowed in dict_items(ref_sys_hooks):
            value = unbound(b_getattr(excepthooks, attr, None))
            if not same(value, allowed[0]) and not same(value, allowed[1]):
                return f"sys.{attr} was changed"
        for event, callbacks in dict_items(events_state()):
            before = ref_events.get(event, ())
            for cb in callbacks:
                known = False
                for old in before:
                    known = known or old is cb
                if not known and not b_str(b_getattr(cb, "__module__", "")).startswith(
                        "matplotlib"):  # pyplot and the inline backend register their own
                    added = b_getattr(cb, "__qualname__", "a callback")
                    return f"IPython's `{event}` event callbacks were changed (`{added}` added)"
            for old in before:
                kept = False
                for cb in callbacks:
                    kept = kept or old is cb
                if not kept:
                    return f"IPython's `{event}` event callbacks were changed"
        if not same(monitoring_tools(), ref_monitoring):
            return "a sys.monitoring tool was registered"
        for signum, handler in dict_items(signals_state()):
            if handler is not dict_get(ref_signals, signum, handler) and not (
                    signum == sigint and from_kernel(handler)):
                return f"the handler of signal {b_int(signum)} was changed"
        for timer in timers:
            if getitimer(timer) != (0.0, 0.0):
                return "a signal timer was b_set"
        if not same(b_tuple(gc_callbacks), ref_gc_callbacks):
            return "a garbage-collector callback was registered"
        for info in b_list(finalize_registry.values()):
            func = b_getattr(info, "func", None)
            if in_notebook(b_getattr(func, "__code__", None)):
                return "a weakref.finalize callback defined in the notebook was registered"
        return None

    history_names = frozenset({"_", "__", "___", "_i", "_ii", "_iii", "_ih", "_oh", "_dh",
                               "In", "Out"})

    def output_history(name: Any) -> bool:
        """IPython's input and output history names (`_`, `_i3`, `_12`, `Out`, ...)."""
        if b_type(name) is not str:
            return False
        return name in history_names or (name[:1] == "_" and (
            name[1:].isdigit() or (name[1:2] == "i" and name[2:].isdigit())))

    def moving_parts() -> str | None:
        """Threads the notebook started and names the locked cells bound."""
        exempt = state["cell"]["assigns"] if state["cell"] is not None else ()
        user_ns = shell.user_ns
        for name, value in dict_items(protected):
            if name not in exempt and dict_get(user_ns, name, protected) is not value:
                return f"the notebook rebound `{name}`, which a locked cell defines"
        if b_len(active_threads) > b_len(ref_threads):
            frames = current_frames()
            for ident, thread in b_list(dict_items(active_threads)):
                if ident in ref_threads or ident == main_ident:
                    continue
                target = b_getattr(thread, "_target", None)
                mine = b_type(thread) is timer_type or in_notebook(
                    b_getattr(target, "__code__", None)) or in_notebook(b_getattr(
                        b_getattr(b_type(thread), "run", None), "__code__", None))
                frame = frames.get(ident)
                while frame is not None and not mine:
                    mine = in_notebook(frame.f_code)
                    frame = frame.f_back
                if mine:
                    name = b_getattr(thread, "name", "?")
                    return f"a thread started by the notebook (`{name}`) was still running"
        return None

    # ---- the cell being checked ----------------------------------------------------------
    state: dict[str, Any] = {"busy": False, "burned": None, "problem": None, "cell": None}

    def note(problem: str | None) -> None:
        if problem and state["problem"] is None:
            state["problem"] = problem
            write(fd, f"problem\t{problem}\n".encode("utf-8", "replace"))

    def check(full: bool = True) -> None:
        if b_len(modules) != seen_modules[0]:  # trust a watched module on first use
            for name, mod in b_list(dict_items(modules)):
                if name not in ref_modules and b_isinstance(mod, module_type) and watched(name):
                    remember_module(name, mod)
            seen_modules[0] = b_len(modules)
        note(changed(full))

    def emit(nonce: str, ok: bool, raw: str) -> None:
        problem = state["burned"] or state["problem"] or ""
        digest = sha256(raw.encode("utf-8", "surrogatepass")).hexdigest()
        body = f"{nonce}\t{b_int(ok)}\t{digest}\t{problem.encode('utf-8', 'replace').hex()}"
        mac = hmac_digest(b_bytes(key), body.encode(), "sha256").hex()
        write(fd, f"{body}\t{mac}\n".encode())

    def burn(event: str) -> None:
        if state["burned"] is None:
            state["burned"] = f"the notebook used {event}, which reaches into the interpreter"
            write(fd, f"burned\t{state['burned']}\n".encode("utf-8", "replace"))
        for i in b_range(b_len(key)):
            key[i] = 0

    def assigned(nodes: list[Any]) -> set[str]:
        """Names a cell's own statements bind (it may rebind what it defined before)."""
        found = b_set()
        for node in nodes:
            for sub in ast_walk(node):
                if b_isinstance(sub, name_node):
                    found.add(b_getattr(sub, "id"))
                elif b_isinstance(sub, alias_node):
                    alias = b_getattr(sub, "asname") or b_getattr(sub, "name")
                    found.add(alias.split(".")[0])
                elif b_isinstance(sub, assign_targets) and b_hasattr(sub, "name"):
                    found.add(b_getattr(sub, "name"))
        return found

    def start(raw: str, transformed: Any, caller: Any) -> None:
        state["cell"] = None
        if caller is None or caller.f_code is not pre_code:
            note("the grader's start-of-cell check was called from the notebook's code")
            return
        lines = raw.rstrip().rsplit("\n", 1)
        last = lines[-1]
        if not last.startswith(check_mark):
            return
        genuine = transform_cell(raw)
        tree = ast_parse(genuine)
        body = b_list(transform_ast(tree).body)
        nodes: list[tuple[ast.mod, str]] = []
        for i, node in b_enumerate(body):
            if i == b_len(body) - 1 and b_isinstance(node, expr_type):
                nodes.append((interactive_node([node]), "single"))
            else:
                nodes.append((module_node([node], []), "exec"))
        state["cell"] = {"nonce": last[b_len(check_mark):].strip(), "raw": raw, "nodes": nodes,
                         "ran": [], "done": False, "assigns": assigned(body)}
        if transformed is not None and (b_type(transformed) is not b_str or transformed != genuine):
            note("the cell's code was rewritten before it ran (an input transformer)")
        check()
        state["cell"]["names"] = b_dict(shell.user_ns)

    def executed(code: Any) -> None:
        cell = state["cell"]
        if not in_notebook(code):
            return
        index = b_len(cell["ran"])
        cell["ran"].append(code)
        if index >= b_len(cell["nodes"]):
            note("the cell ran code that is not in it")
            return
        mod, mode = cell["nodes"][index]
        try:
            want = compile_(mod, code.co_filename, mode, (code.co_flags & future_mask) | tla, True)
        except b_SyntaxError:
            want = None
        if want != code:
            note("the cell's code was changed before it ran (an AST transformer or a patched "
                 "IPython)")
        check(full=index == 0)

    def done(frame: Any) -> None:
        cell = state["cell"]
        if cell is not None and cell["ran"] and frame is not None and (
                frame.f_code is cell["ran"][-1]) and b_len(cell["ran"]) == b_len(cell["nodes"]):
            cell["done"] = True

    def finish(raw: str, success: bool, caller: Any) -> None:
        cell = state["cell"]
        state["cell"] = None
        if cell is None or b_type(raw) is not b_str or cell["raw"] != raw:
            return
        genuine = caller is not None and caller.f_code is post_code and get_ident() == main_ident
        frame = caller.f_back if genuine else None
        if frame is None or frame.f_code is not trigger_code:
            genuine = False
        seen_run_cell = False
        while genuine and frame is not None:
            if in_notebook(frame.f_code):
                genuine = False
            seen_run_cell = seen_run_cell or frame.f_code in runner_codes
            frame = frame.f_back
        if not (genuine and seen_run_cell):
            note("the grader's end-of-cell check was not called by IPython after the cell")
            genuine = False
        state["cell"] = cell  # the cell's own rebinding is not tampering
        check()
        state["cell"] = None
        before = cell["names"]
        for name, value in dict_items(shell.user_ns):  # what this locked cell bound to code
            if output_history(name):
                continue  # IPython's: `_`, `__`, `_7` name the last outputs, whatever they are
            if dict_get(before, name, before) is not value and (
                    b_isinstance(value, (function_type, b_type, module_type))
                    or (b_callable(value) and b_type(value).__module__ == "builtins")):
                protected[name] = value
        ok = success is True and genuine and cell["done"] and b_len(cell["ran"]) == b_len(
            cell["nodes"])
        emit(cell["nonce"], ok, raw)

    interesting = b_frozenset({"exec", "grader.pre", "grader.done", "grader.post",
                               "object.__setattr__", *burn_events})

    def hook(event: str, args: tuple[Any, ...]) -> None:
        # every audit event of the process comes here (attribute reads of frames, opens, ...):
        # the ones the guard does not care about leave at once
        if event not in interesting and not event.startswith("ctypes."):
            return
        if state["busy"]:
            return
        state["busy"] = True
        try:
            if event == "exec":
                if args and b_type(args[0]) is code_type and state["cell"] is not None:
                    executed(args[0])
            elif event == "grader.pre":
                start(args[0], args[1] if b_len(args) > 1 else None, getframe(1))
            elif event == "grader.done":
                done(getframe(1))
            elif event == "grader.post":
                finish(args[0], args[1], getframe(1))
            elif event in burn_events or event.startswith("ctypes."):
                caller = getframe(1)
                if caller is None or caller.f_code not in own_code:
                    burn(event)
            elif event == "object.__setattr__" and b_len(args) > 1 and args[1] == "__code__":
                burn("an assignment to a function's `__code__`")
        except b_BaseException:  # the guard must never break the notebook: fail closed instead
            if state["problem"] is None:
                state["problem"] = "the grader's check could not finish"
        finally:
            state["busy"] = False

    for mod_name in b_list(modules):  # the helper package's own gc scans are allowed
        if mod_name.startswith("asyncourse"):
            for value in b_vars(modules[mod_name]).values():
                code = b_getattr(value, "__code__", None)
                if code is not None:
                    own_code.add(code)
                if b_isinstance(value, b_type):
                    for member in b_vars(value).values():
                        member_code = b_getattr(member, "__code__", None)
                        if member_code is not None:
                            own_code.add(member_code)
    shell.events.register("pre_run_cell", pre_run_cell)
    shell.events.register("post_run_cell", post_run_cell)
    ref_events.update(events_state())
    sys.addaudithook(hook)
    write(fd, b"installed\n")
