"""The daemon's shape, read from its source (an AST scan of every module): no import circle
between its modules, and no module reaching into another module's private (`_x`) names.

Every import counts, lazy ones inside functions included; only `if TYPE_CHECKING:` blocks are
left out (names for annotations, never run: an open project's parts name the Session they
belong to). A private name is one starting with a single underscore; `obj._x` is allowed when
the module itself defines `_x` (its own classes' attributes) or `obj` is `self`/`cls`.
"""

from __future__ import annotations

import ast
from pathlib import Path

from tiny_models import REPO_ROOT

DAEMON = REPO_ROOT / "daemon"
# Third-party private names we cannot avoid, each with why.
ALLOWED_PRIVATE = {
    # llama-cpp-python has no public handle on its context (KV state save/restore)
    ("papercycle.daemon.models.kv_state", "llama._ctx"),
    # llama-cpp-python builds its grammar sampler from these and offers no public way to build
    # one apart from its chain (the version is pinned; tests/daemon/test_grammar_sampler.py)
    ("papercycle.daemon.models.grammar_sampler", "llama._model"),
    ("papercycle.daemon.models.grammar_sampler", "grammar._grammar"),
    ("papercycle.daemon.models.grammar_sampler", "grammar._root"),
}


def _modules(folder: Path) -> dict[str, Path]:
    out = {}
    for file in sorted(folder.rglob("*.py")):
        parts = list(file.relative_to(REPO_ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out["papercycle." + ".".join(parts)] = file
    return out


def _type_checking_lines(tree: ast.Module) -> set[int]:
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and ast.unparse(node.test) in (
            "TYPE_CHECKING",
            "typing.TYPE_CHECKING",
        ):
            for child in node.body:
                lines.update(range(child.lineno, (child.end_lineno or child.lineno) + 1))
    return lines


def _imports(name: str, file: Path, modules: dict[str, Path]) -> set[str]:
    """The daemon modules `name` imports (a name imported from a package that is a module
    of its own counts as that module)."""
    tree = ast.parse(file.read_text(encoding="utf-8"))
    skipped = _type_checking_lines(tree)
    found = set()
    for node in ast.walk(tree):
        if getattr(node, "lineno", None) in skipped:
            continue
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name in modules)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                package = name.split(".")
                if file.name != "__init__.py":
                    package = package[:-1]
                package = package[: len(package) - (node.level - 1)]
                base = ".".join([*package, *([node.module] if node.module else [])])
            for alias in node.names:
                full = f"{base}.{alias.name}"
                if full in modules:
                    found.add(full)
                elif base in modules:
                    found.add(base)
    found.discard(name)
    return found


def _circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    circles: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                circles.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return circles


def _private_uses(name: str, file: Path) -> list[str]:
    tree = ast.parse(file.read_text(encoding="utf-8"))
    own: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            own.add(node.name)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            own.add(node.id)
        elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
            own.add(node.attr)
        elif isinstance(node, ast.arg):
            own.add(node.arg)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            found += [
                f"{file.name}:{node.lineno}: from {node.module} import {alias.name}"
                for alias in node.names
                if _private(alias.name)
            ]
        elif isinstance(node, ast.Attribute) and _private(node.attr):
            value = node.value
            if isinstance(value, ast.Name) and value.id in ("self", "cls"):
                continue
            if node.attr in own or (name, ast.unparse(node)) in ALLOWED_PRIVATE:
                continue
            found.append(f"{file.name}:{node.lineno}: {ast.unparse(node)}")
    return found


def _private(attr: str) -> bool:
    return attr.startswith("_") and not attr.startswith("__")


def test_the_scan_finds_a_circle_and_a_private_call(tmp_path):
    """The checks below can fail: a made-up pair of modules trips both."""
    graph = {"a": {"b"}, "b": {"a", "c"}, "c": set()}
    assert _circles(graph) == [["a", "b"]]
    file = tmp_path / "caller.py"
    file.write_text("def f(server):\n    return server._generate()\n")
    assert _private_uses("caller", file) == ["caller.py:2: server._generate"]


def test_no_import_circle_in_the_daemon():
    modules = _modules(DAEMON)
    assert "papercycle.daemon.jobs" in modules and len(modules) > 50
    graph = {name: _imports(name, file, modules) for name, file in modules.items()}
    assert graph["papercycle.daemon.server"], "the scan found no import of the server's"
    assert _circles(graph) == []


def test_no_module_calls_another_modules_private_names():
    modules = _modules(DAEMON)
    found = [use for name, file in modules.items() for use in _private_uses(name, file)]
    assert found == []


def test_the_engine_knows_no_sockets_queues_or_server():
    """engine/ prepares generations and reads their outputs; the road (jobs.py), the
    scheduler, the server and the handlers are the daemon's, never imported there."""
    modules = _modules(DAEMON)
    forbidden = {
        "papercycle.daemon.server",
        "papercycle.daemon.jobs",
        "papercycle.daemon.scheduler",
        "papercycle.daemon.protocol",
        "papercycle.daemon.sessions",
        "papercycle.daemon.handlers",
    }
    engine = {n: f for n, f in modules.items() if n.startswith("papercycle.daemon.engine.")}
    assert engine
    for name, file in engine.items():
        imported = _imports(name, file, modules)
        bad = {m for m in imported if any(m == f or m.startswith(f + ".") for f in forbidden)}
        assert not bad, f"{name} imports {sorted(bad)}"
        assert "zmq" not in file.read_text(encoding="utf-8"), name
