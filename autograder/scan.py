"""Static scan of the cells a learner could edit: code that tampers with grading gets reviewed.

Why. Learner code runs in the same interpreter as the hidden tests, before them (see the
"NOT protected against" list of `autograder.sandbox`), so it can replace what the tests rely on:
``asyncio.sleep`` (a sequential solution then looks concurrent), the helper package
``asyncourse``, ``builtins``, ``sys.modules``, warning filters (hiding a forgotten ``await``),
IPython's hooks, or a provided function such as ``fetch``. The grading helpers refuse the
replacements they can see; this scan reads the source and names the rest, so a human looks at the
submission. A flagged submission is still graded as usual: the scan only adds the words
"marked for review: cell 5 assigns asyncio.sleep" to its reason, status and feedback.

What it flags (``ast``, per code cell the learner could edit): assigning or deleting attributes
or items of ``asyncio``/``asyncourse``/``builtins``/``sys.modules``/``IPython`` (also through
``setattr``, ``vars()``/``__dict__``, an ``import ... as`` alias or ``__import__("asyncio")``);
rebinding a name the instructor's locked cells define (``fetch``, ``asyncio``); warning filters
(``warnings.filterwarnings``/``simplefilter``/``resetwarnings``, ``warnings.showwarning =``);
IPython hooks (``get_ipython().events.register``, ``set_custom_exc``, ``sys.excepthook``,
``sys.displayhook``, ``sys.unraisablehook``, ``sys.settrace``); ``os._exit``, ``os.kill``,
``os.fork``, ``signal.signal``; ``ctypes``; ``subprocess``, ``os.system``/``popen``/``exec*``;
``exec``/``eval``; string literals that name paths outside the working folder (``..``, absolute
paths, ``source/``, ``gradebook``, ``autograded``, ``submitted/``).

What it cannot catch: anything built at run time that the parser never sees as such
(``getattr(__import__("a" + "syncio"), name)``, a path assembled from ``chr(46) * 2``, code
decoded from base64 and run through an alias of ``exec`` that was itself obtained dynamically),
code in a file the notebook writes and then imports, and honest code that merely looks
suspicious (a learner printing ``/tmp``). It is a tripwire for a reviewer, not a proof; the
sandbox, not this scan, is what keeps the gradebook and the hidden tests out of reach.
"""

from __future__ import annotations

import ast
import functools
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import nbformat

if TYPE_CHECKING:
    from autograder.grading.worker import GradingJob

REVIEW = "marked for review"
MODULE_SUFFIXES = (".py", ".pyc", ".pth", ".so", ".pyd")
# Modules whose attributes a learner must not assign: the tests rely on the real ones.
GUARDED = ("asyncio", "asyncourse", "builtins", "IPython", "ipykernel", "nbgrader", "warnings",
           "time", "inspect", "gc")
# Module-level functions whose mere call is suspicious in an asyncio exercise.
CALLS = {
    "os._exit": "calls os._exit",
    "os.abort": "calls os.abort",
    "os.kill": "calls os.kill",
    "os.killpg": "calls os.killpg",
    "os.fork": "calls os.fork",
    "os.forkpty": "calls os.forkpty",
    "os.system": "runs a shell command (os.system)",
    "os.popen": "runs a shell command (os.popen)",
    "os.remove": "deletes a file (os.remove)",
    "os.unlink": "deletes a file (os.unlink)",
    "os.chdir": "changes the working folder (os.chdir)",
    "shutil.rmtree": "deletes a folder (shutil.rmtree)",
    "signal.signal": "installs a signal handler (signal.signal)",
    "signal.alarm": "sets a signal alarm (signal.alarm)",
    "warnings.filterwarnings": "changes the warning filters (warnings.filterwarnings)",
    "warnings.simplefilter": "changes the warning filters (warnings.simplefilter)",
    "warnings.resetwarnings": "changes the warning filters (warnings.resetwarnings)",
    "sys.settrace": "installs a tracer (sys.settrace)",
    "sys.setprofile": "installs a profiler (sys.setprofile)",
    "sys.exit": "calls sys.exit",
    "exit": "calls exit() (does nothing when graded)",
    "quit": "calls quit() (does nothing when graded)",
    "IPython.shell.ask_exit": "calls exit() (does nothing when graded)",
    "gc.disable": "turns the garbage collector off (gc.disable)",
    "importlib.reload": "reloads a module (importlib.reload)",
    "exec": "runs code from a string (exec)",
    "eval": "runs code from a string (eval)",
    "compile": "compiles code from a string (compile)",
    "setattr": None,  # handled with its target
    "delattr": None,
}
CALL_PREFIXES = {"os.exec": "replaces the kernel process (os.exec*)",
                 "os.spawn": "starts a process (os.spawn*)",
                 "os.posix_spawn": "starts a process (os.posix_spawn)",
                 "subprocess.": "starts a process (subprocess)",
                 "ctypes.": "uses ctypes", "socket.": "opens a network socket"}
IMPORTS = {"ctypes": "imports ctypes", "_ctypes": "imports ctypes",
           "subprocess": "imports subprocess", "socket": "imports socket",
           "pty": "imports pty", "multiprocessing": "imports multiprocessing",
           "_thread": "imports _thread"}
HOOKS = {"sys.excepthook", "sys.displayhook", "sys.unraisablehook", "sys.breakpointhook",
         "sys.stdout", "sys.stderr", "sys.meta_path", "sys.path_hooks", "sys.modules",
         "warnings.showwarning", "warnings.formatwarning", "warnings.filters"}
IPYTHON_METHODS = {"register", "set_custom_exc", "set_hook", "register_magic_function",
                   "run_cell", "run_line_magic", "system", "ex", "ev"}
PATH_WORDS = re.compile(r"(^|[/\\])\.\.([/\\]|$)|^~|gradebook|autograded|\.db$|"
                        r"^/(work|root|home|etc|proc|sys|tmp|opt|var|usr|dev|mnt|srv|run)/|"
                        r"(^|/)(source|submitted|release|feedback)/")


@dataclass(frozen=True)
class Flag:
    """One suspicious construct: cell number (1-based over all cells), line in it, words."""

    cell: int
    line: int
    what: str

    def __str__(self) -> str:
        return f"cell {self.cell} {self.what}"


def review_note(flags: Iterable[Flag], limit: int = 4) -> str | None:
    """``marked for review: cell 5 assigns asyncio.sleep, cell 7 calls os._exit``, or None."""
    unique = list(dict.fromkeys(str(f) for f in flags))
    if not unique:
        return None
    more = f" and {len(unique) - limit} more" if len(unique) > limit else ""
    return f"{REVIEW}: {', '.join(unique[:limit])}{more}"


def _meta(cell: nbformat.NotebookNode) -> dict[str, object]:
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return dict(meta) if isinstance(meta, dict) else {}


def _source(cell: nbformat.NotebookNode) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else str(src)


def instructor_cells(source_nb: nbformat.NotebookNode) -> dict[str, str]:
    """grade_id -> source of every locked or test cell of the instructor's notebook."""
    cells = {}
    for cell in source_nb.cells:
        meta = _meta(cell)
        if meta.get("grade_id") and not meta.get("solution") and (
                meta.get("locked") or meta.get("grade")):
            cells[str(meta["grade_id"])] = _source(cell)
    return cells


def provided_names(source_nb: nbformat.NotebookNode) -> dict[str, str | None]:
    """Top-level names the instructor's locked code cells define (``fetch``, ``asyncio``...),
    each with the module path it was imported from (None when defined or assigned)."""
    names: dict[str, str | None] = {}
    for cell in source_nb.cells:
        meta = _meta(cell)
        if cell.cell_type != "code" or meta.get("solution") or meta.get("grade") or not (
                meta.get("locked")):
            continue
        try:
            tree = ast.parse(_source(cell))
        except SyntaxError:
            continue
        names.update(_bound_names(tree.body))
    return names


def _bound_names(body: Iterable[ast.stmt]) -> Iterator[tuple[str, str | None]]:
    for node in body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            yield node.name, None
        elif isinstance(node, ast.Import):
            for alias in node.names:
                yield (alias.asname or alias.name).split(".")[0], (
                    alias.name if alias.asname else alias.name.split(".")[0])
        elif isinstance(node, ast.ImportFrom):
            for alias in node.names:
                if alias.name != "*":
                    yield alias.asname or alias.name, f"{node.module}.{alias.name}"
        elif isinstance(node, ast.Assign | ast.AnnAssign | ast.AugAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                for sub in ast.walk(target):
                    if isinstance(sub, ast.Name):
                        yield sub.id, None


def learner_cells(nb: nbformat.NotebookNode,
                  instructor: dict[str, str]) -> Iterator[tuple[int, str]]:
    """(cell number, source) of each code cell the learner could have written.

    A cell is the instructor's only if its grade_id is a locked/test cell of the source notebook
    and its source is exactly that cell's (as nbgrader restored it); anything else is scanned,
    including learner cells that copy locked metadata.
    """
    for index, cell in enumerate(nb.cells):
        if cell.get("cell_type") != "code":
            continue
        source = _source(cell)
        grade_id = _meta(cell).get("grade_id")
        if isinstance(grade_id, str) and instructor.get(grade_id) == source:
            continue
        yield index + 1, source


def scan_notebook(nb: nbformat.NotebookNode,
                  source_nb: nbformat.NotebookNode | None = None) -> list[Flag]:
    """Every flag in the learner-editable code cells of `nb` (`source_nb`: the instructor's)."""
    instructor = instructor_cells(source_nb) if source_nb is not None else {}
    provided = provided_names(source_nb) if source_nb is not None else {}
    flags: list[Flag] = []
    aliases: dict[str, str] = {}  # names bound by imports anywhere in the learner's cells
    for number, source in learner_cells(nb, instructor):
        flags.extend(scan_source(source, number, provided, aliases))
    return flags


SAFE_MAGICS = {"time", "timeit", "matplotlib", "capture", "prun", "who", "whos", "pprint",
               "precision", "xmode", "autoawait"}


def scan_source(source: str, cell: int = 1, provided: dict[str, str | None] | None = None,
                aliases: dict[str, str] | None = None) -> list[Flag]:
    """Flags in one cell's source; IPython magics and ``!`` lines are read as IPython runs them."""
    try:
        from IPython.core.inputtransformer2 import TransformerManager

        python = str(TransformerManager().transform_cell(source))  # type: ignore[no-untyped-call]
    except Exception:  # not IPython syntax either: the cell fails when it runs
        python = source
    try:
        tree = ast.parse(python)
    except SyntaxError:
        return []  # a syntax error fails the learner's own cell; nothing runs from it
    visitor = _Visitor(cell, provided or {}, aliases if aliases is not None else {})
    visitor.visit(tree)
    return visitor.flags


class _Visitor(ast.NodeVisitor):
    def __init__(self, cell: int, provided: dict[str, str | None],
                 aliases: dict[str, str]) -> None:
        self.cell = cell
        self.provided = provided
        self.aliases = aliases
        self.flags: list[Flag] = []
        self.depth = 0  # function nesting: rebinding a provided name counts at top level only

    def flag(self, node: ast.AST, what: str) -> None:
        self.flags.append(Flag(self.cell, getattr(node, "lineno", 0), what))

    # ---- names -------------------------------------------------------------------------
    def dotted(self, node: ast.AST) -> str | None:
        """`asyncio.tasks.sleep` for an attribute chain, with import aliases resolved."""
        if isinstance(node, ast.Name):
            return self.aliases.get(node.id, node.id)
        if isinstance(node, ast.Attribute):
            base = self.dotted(node.value)
            return f"{base}.{node.attr}" if base else None
        if isinstance(node, ast.Subscript):
            base = self.dotted(node.value)
            key = node.slice
            if base and isinstance(key, ast.Constant) and isinstance(key.value, str):
                is_vars = isinstance(node.value, ast.Call) and self.dotted(
                    node.value.func) == "vars"
                if is_vars or base.endswith((".__dict__", "sys.modules")) or (
                        base == "__builtins__"):
                    return f"{base.removesuffix('.__dict__')}.{key.value}"
                return f"{base}[{key.value!r}]"
            return f"{base}[...]" if base else None
        if isinstance(node, ast.Call):
            func = self.dotted(node.func)
            if func in ("__import__", "importlib.import_module") and node.args and isinstance(
                    node.args[0], ast.Constant) and isinstance(node.args[0].value, str):
                return node.args[0].value
            if func == "vars" and node.args:
                return self.dotted(node.args[0])
            if func in ("get_ipython", "IPython.get_ipython"):
                return "IPython.shell"
            if func == "getattr" and len(node.args) >= 2 and isinstance(
                    node.args[1], ast.Constant) and isinstance(node.args[1].value, str):
                base = self.dotted(node.args[0])
                return f"{base}.{node.args[1].value}" if base else None
        return None

    @staticmethod
    def guarded(name: str | None) -> bool:
        if not name:
            return False
        root = name.split(".")[0].split("[")[0]
        return (root in GUARDED or root == "__builtins__" or name.startswith("sys.modules")
                or name in HOOKS or any(name.startswith(h + ".") for h in HOOKS))

    # ---- imports -----------------------------------------------------------------------
    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self.check_import(node, alias.name)
            if alias.asname:
                self.aliases[alias.asname] = alias.name
            self.check_rebind(node, (alias.asname or alias.name).split(".")[0], alias.name)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        module = node.module or ""
        self.check_import(node, module)
        for alias in node.names:
            if alias.name == "*":
                continue
            full = f"{module}.{alias.name}" if module else alias.name
            self.check_import(node, full)
            self.aliases[alias.asname or alias.name] = full
            self.check_rebind(node, alias.asname or alias.name, full)

    def check_import(self, node: ast.AST, module: str) -> None:
        what = IMPORTS.get(module.split(".")[0])
        if what:
            self.flag(node, what)

    # ---- assignments -------------------------------------------------------------------
    def check_target(self, node: ast.AST, target: ast.AST, verb: str) -> None:
        if isinstance(target, ast.Tuple | ast.List):
            for elt in target.elts:
                self.check_target(node, elt, verb)
            return
        if isinstance(target, ast.Starred):
            self.check_target(node, target.value, verb)
            return
        if isinstance(target, ast.Name):
            if target.id == "__builtins__":
                self.flag(node, f"{verb} __builtins__")
            elif self.depth == 0:
                self.check_rebind(node, target.id, None)
            return
        name = self.dotted(target)
        if self.guarded(name):
            self.flag(node, f"{verb} {name}")

    def check_rebind(self, node: ast.AST, name: str, imported: str | None) -> None:
        """A top-level rebinding of a name the instructor's cells define (e.g. `fetch`)."""
        if name in self.provided and self.depth == 0:
            origin = self.provided[name]
            # importing it as the assignment does is harmless; any other binding is not
            if imported is None or origin is None or imported != origin:
                self.flag(node, f"redefines `{name}`, which the assignment provides")

    def visit_Assign(self, node: ast.Assign) -> None:
        for target in node.targets:
            self.check_target(node, target, "assigns")
        value = self.dotted(node.value)
        if self.guarded(value) or (value or "").split(".")[0] in ("sys", "os", "signal"):
            for target in node.targets:  # `aio = asyncio`, `ip = get_ipython()`: an alias
                if isinstance(target, ast.Name) and value:
                    self.aliases[target.id] = value
        self.generic_visit(node)

    def visit_AugAssign(self, node: ast.AugAssign) -> None:
        self.check_target(node, node.target, "assigns")
        self.generic_visit(node)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        if node.value is not None:
            self.check_target(node, node.target, "assigns")
        self.generic_visit(node)

    def visit_Delete(self, node: ast.Delete) -> None:
        for target in node.targets:
            self.check_target(node, target, "deletes")
        self.generic_visit(node)

    def visit_NamedExpr(self, node: ast.NamedExpr) -> None:
        self.check_target(node, node.target, "assigns")
        self.generic_visit(node)

    def _definition(self, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) -> None:
        if self.depth == 0:
            self.check_rebind(node, node.name, None)
        for deco in node.decorator_list:
            self.visit(deco)
        self.depth += 1
        for child in node.body:
            self.visit(child)
        self.depth -= 1

    visit_FunctionDef = visit_AsyncFunctionDef = visit_ClassDef = _definition

    def visit_Global(self, node: ast.Global) -> None:
        for name in node.names:
            if name in self.provided:
                self.flag(node, f"rebinds `{name}` (global), which the assignment provides")

    # ---- calls -------------------------------------------------------------------------
    def visit_Call(self, node: ast.Call) -> None:
        func = self.dotted(node.func)
        if func in ("setattr", "delattr") and node.args:
            target = self.dotted(node.args[0])
            attr = node.args[1] if len(node.args) > 1 else None
            name = (f"{target}.{attr.value}" if isinstance(attr, ast.Constant)
                    and isinstance(attr.value, str) else f"{target}.<attribute>")
            if self.guarded(target):
                self.flag(node, f"{'assigns' if func == 'setattr' else 'deletes'} {name} "
                                f"({func})")
        elif func in ("IPython.shell.run_line_magic", "IPython.shell.run_cell_magic"):
            self.check_magic(node)
        elif func in ("IPython.shell.system", "IPython.shell.getoutput"):
            self.flag(node, "runs a shell command (`!`)")
        elif func and func.startswith("IPython.shell"):
            method = func.rsplit(".", 1)[-1]
            if method in IPYTHON_METHODS:
                self.flag(node, f"changes IPython's behaviour (get_ipython()...{method})")
        elif func and func.split(".")[0] == "__builtins__" and func.endswith(
                (".update", ".__setitem__", ".setdefault")):
            self.flag(node, f"changes the builtins ({func})")
        elif func and (func.endswith((".__setitem__", ".update", ".setdefault", ".pop",
                                      ".__delitem__")) and self.guarded(func.rsplit(".", 1)[0])):
            self.flag(node, f"changes {func.rsplit('.', 1)[0]} ({func.rsplit('.', 1)[1]})")
        elif func and CALLS.get(func):
            self.flag(node, str(CALLS[func]))
        elif func:
            for prefix, what in CALL_PREFIXES.items():
                if func.startswith(prefix):
                    self.flag(node, what)
                    break
        self.generic_visit(node)

    def check_magic(self, node: ast.Call) -> None:
        args = [a.value if isinstance(a, ast.Constant) else "" for a in node.args]
        name = str(args[0]).lstrip("%") if args else ""
        if name not in SAFE_MAGICS:
            self.flag(node, f"runs the IPython magic %{name}")
            return
        for code in args[1:]:  # the code a %time / %%timeit runs
            if isinstance(code, str) and code.strip():
                inner = scan_source(code, self.cell, self.provided, self.aliases)
                self.flags.extend(Flag(f.cell, node.lineno, f.what) for f in inner)

    # ---- literals ----------------------------------------------------------------------
    def visit_Constant(self, node: ast.Constant) -> None:
        value = node.value
        if isinstance(value, str) and len(value) < 300 and "\n" not in value and (
                " " not in value.strip()) and PATH_WORDS.search(value):
            self.flag(node, f"names the path {value[:60]!r}")


def review(notebook: str | nbformat.NotebookNode, source: Path) -> str | None:
    """The review note for a prepared notebook (JSON or node), given the instructor's notebook."""
    nb = (nbformat.reads(notebook, as_version=4)
          if isinstance(notebook, str) else notebook)
    return review_note(scan_notebook(nb, _source_notebook(str(source))))


@functools.lru_cache(maxsize=8)
def _source_notebook(path: str) -> nbformat.NotebookNode | None:
    if not Path(path).exists():
        return None
    return nbformat.read(path, as_version=4)  # type: ignore[no-any-return]


def review_job(job: GradingJob, source: Path) -> str:
    """Class-command hook: the review note of a prepared job ("marked for review: ..."), or ""."""
    try:
        note = review(job.notebook, source)
        modules = sorted(n for n in job.files if n.endswith(MODULE_SUFFIXES))
        if modules:  # the kernel no longer imports them (python -P), but why send them?
            words = f"the submission adds the Python file(s) {', '.join(modules[:3])}"
            note = f"{note}, {words}" if note else f"{REVIEW}: {words}"
    except Exception as err:  # never crash the grader: a notebook the scan cannot read is odd
        note = f"{REVIEW}: the grader could not scan its cells ({type(err).__name__})"
    return note or ""
