"""The language server's one-way arrows (lsp/README.md "Layout"), read from every import in
lsp/, lazy ones included: it reaches the daemon through the client and uses the project model
as a library, nothing else of the daemon; its modules import each other without a circle, and
only the server module registers the features."""

from __future__ import annotations

import ast
from pathlib import Path

LSP = Path(__file__).resolve().parents[2] / "lsp"
# what of the daemon package the language server may import: the client, the project model
# (a library), the one severity mapping (the CLI's too), where the user's configuration is
# (its [severities]) and owner-only file writing
DAEMON_ALLOWED = (
    "papercycle.daemon.client",
    "papercycle.latex",
    "papercycle.daemon.severity",
    "papercycle.daemon.paths",
    "papercycle.private",
)
FEATURES = ("lifecycle", "sync", "queries", "command_handlers")


def imports(path: Path) -> list[tuple[str, bool]]:
    """(module, only for type checking) of every import in `path`."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    typing_only: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING":
            typing_only |= {id(child) for stmt in node.body for child in ast.walk(stmt)}
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            found = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        elif isinstance(node, ast.Import):
            found = [alias.name for alias in node.names]
        else:
            continue
        out += [(name, id(node) in typing_only) for name in found]
    return out


def modules() -> dict[str, list[tuple[str, bool]]]:
    found = {path.stem: imports(path) for path in sorted(LSP.glob("*.py"))}
    assert len(found) > 20 and "server" in found and "session" in found
    return found


def test_the_daemon_is_reached_through_the_client_and_the_project_library_only():
    reached = {
        (module, name)
        for module, names in modules().items()
        for name, _ in names
        if name.startswith("papercycle.daemon")
    }
    assert reached, "the language server uses the daemon's client"
    wrong = sorted(
        (module, name)
        for module, name in reached
        if not any(name == ok or name.startswith(ok + ".") for ok in DAEMON_ALLOWED)
    )
    assert wrong == []


def test_imports_run_one_way():
    """No circle among the modules at run time (an import for type checking only may point
    back: the state modules read the session's type), and only the server registers the
    features."""
    found = modules()
    graph = {
        module: {
            name.removeprefix("papercycle.lsp.")
            for name, typing in names
            if not typing and name.removeprefix("papercycle.lsp.") in found
        }
        for module, names in found.items()
    }
    assert graph["server"] >= {"session", *FEATURES}
    for module, targets in graph.items():
        if module != "server":
            assert not targets & set(FEATURES), module
    done: set[str] = set()

    def visit(module: str, path: list[str]) -> None:
        assert module not in path, " -> ".join([*path, module])
        if module in done:
            return
        for target in sorted(graph[module]):
            visit(target, [*path, module])
        done.add(module)

    for module in sorted(graph):
        visit(module, [])


def test_every_module_is_short():
    lengths = {p.name: len(p.read_text().splitlines()) for p in LSP.glob("*.py")}
    assert lengths and max(lengths.values()) <= 400, sorted(lengths.items(), key=lambda x: -x[1])
