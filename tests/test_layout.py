"""The distribution's shape: package mapping, no bare packages, torch only in the trainer, and
the one-way dependency rule of the README's layout section, checked on every import statement
(an AST scan: module level, inside functions, relative, `importlib.import_module("...")`)."""

from __future__ import annotations

import ast
import functools
import subprocess
import sys
import tomllib
import zipfile
from dataclasses import dataclass
from pathlib import Path

from tiny_models import REPO_ROOT

FOLDERS = {
    "cli": "papercycle.cli",
    "daemon": "papercycle.daemon",
    "formats": "papercycle.formats",
    "latex": "papercycle.latex",
    "lsp": "papercycle.lsp",
    "private": "papercycle.private",
    "trainer": "papercycle.trainer",
}


def _pyproject() -> dict:
    return tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())


def test_every_package_folder_is_listed():
    listed = set(_pyproject()["tool"]["setuptools"]["packages"])
    found = set()
    for folder, package in FOLDERS.items():
        for init in (REPO_ROOT / folder).rglob("__init__.py"):
            relative = init.parent.relative_to(REPO_ROOT / folder).parts
            found.add(".".join((package, *relative)))
    assert found == listed


def _python(code: str) -> subprocess.CompletedProcess:
    # Run outside the repository so the checkout's folders cannot shadow anything.
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd="/")


def test_no_bare_packages():
    for bare in ("daemon", "lsp", "trainer", "cli"):
        assert _python(f"import {bare}").returncode != 0, f"`import {bare}` should fail"


def test_daemon_lsp_and_cli_never_import_torch():
    code = (
        "import sys, pkgutil, importlib\n"
        "import papercycle.daemon, papercycle.lsp, papercycle.cli.main\n"
        "for pkg in (papercycle.daemon, papercycle.lsp):\n"
        "    for m in pkgutil.walk_packages(pkg.__path__, pkg.__name__ + '.'):\n"
        "        importlib.import_module(m.name)\n"
        "from papercycle.cli.main import cli\n"
        "bad = [m for m in ('torch', 'transformers', 'trl') if m in sys.modules]\n"
        "print(bad)\n"
        "sys.exit(1 if bad else 0)\n"
    )
    result = _python(code)
    assert result.returncode == 0, result.stdout + result.stderr


def test_export_worker_runs_without_torch():
    code = "import sys, papercycle.trainer.export.llama_worker; sys.exit('torch' in sys.modules)"
    assert _python(code).returncode == 0


def test_wheel_contains_namespaced_packages(tmp_path):
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "--quiet",
            "-w",
            str(tmp_path),
            str(REPO_ROOT),
        ],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    (wheel,) = tmp_path.glob("papercycle-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "papercycle/daemon/__init__.py" in names
    assert "papercycle/trainer/export/run_converter.py" in names
    assert "papercycle/trainer/tiny/chat_template.jinja" in names
    assert not [n for n in names if n.split("/")[0] in FOLDERS]
    assert not [n for n in names if n.startswith("tests/")]
    if (REPO_ROOT / "cli" / "web_page" / "index.html").is_file():  # editors/web was built
        assert "papercycle/cli/web_page/index.html" in names  # `papercycle web` from a wheel


# -- the import graph ---------------------------------------------------------------------------

# What each package may import of papercycle: the README's Layout picture, arrow by arrow.
# The shared libraries (latex: the LaTeX project model; formats: the review formats; private:
# owner-only files) sit at the bottom and import nothing above them. The language server talks
# to the daemon through its client only (plus where the config lives and the one severity
# mapping); the trainer reads the formats and samples with the daemon's own prompt
# tokenization and model catalogue (one BOS rule, one catalogue); the CLI runs them all.
SHARED = {"papercycle.latex", "papercycle.formats", "papercycle.private"}
ALLOWED = {
    "papercycle.cli": {
        "papercycle.cli",
        "papercycle.lsp",
        "papercycle.daemon",
        "papercycle.trainer",
        *SHARED,
    },
    "papercycle.lsp": {
        "papercycle.lsp",
        "papercycle.daemon.client",
        "papercycle.daemon.paths",
        "papercycle.daemon.severity",
        *SHARED,
    },
    "papercycle.trainer": {
        "papercycle.trainer",
        "papercycle.formats",
        "papercycle.daemon.models.bos",
        "papercycle.daemon.models.catalogue",
    },
    "papercycle.daemon": {"papercycle.daemon", *SHARED},
    "papercycle.latex": {"papercycle.latex", "papercycle.private"},
    "papercycle.formats": {"papercycle.formats"},
    "papercycle.private": {"papercycle.private"},
}
HEAVY = {"torch", "transformers", "trl", "peft", "accelerate", "datasets", "bitsandbytes"}
# Import circles between daemon modules that exist today, each to be removed by issue 15. The
# check is exact both ways: a new circle fails, and so does one of these once it is gone (then
# delete it here).
KNOWN_CIRCLES: set[frozenset[str]] = set()  # issue 15's two are gone (jobs.py, prompting.py)


@dataclass(frozen=True)
class Import:
    module: str  # the importing module
    target: str  # the imported module (or package, when the name is not a module of ours)
    line: int
    typing_only: bool  # under `if TYPE_CHECKING:`: read by type checkers, never executed


def _module_files() -> dict[str, Path]:
    out = {}
    for folder, package in FOLDERS.items():
        for path in (REPO_ROOT / folder).rglob("*.py"):
            parts = path.relative_to(REPO_ROOT / folder).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            out[".".join((package, *parts))] = path
    return out


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def scan_imports(module: str, source: str, is_package: bool, known: set[str]) -> list[Import]:
    """Every import in `source`, wherever it is; `from a import b` targets `a.b` when that is
    a module in `known`, else `a`."""
    found: list[Import] = []

    def visit(node: ast.AST, typing_only: bool) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node):
            for child in node.body:
                visit(child, True)
            for child in node.orelse:
                visit(child, typing_only)
            return
        if isinstance(node, ast.Import):
            found.extend(Import(module, a.name, node.lineno, typing_only) for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: from the package this module is in
                parts = module.split(".") if is_package else module.split(".")[:-1]
                parts = parts[: len(parts) - (node.level - 1)]
                base = ".".join([*parts, base] if base else parts)
            for a in node.names:
                sub = f"{base}.{a.name}"
                found.append(
                    Import(module, sub if sub in known else base, node.lineno, typing_only)
                )
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "import_module"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            found.append(Import(module, node.args[0].value, node.lineno, typing_only))
        for child in ast.iter_child_nodes(node):
            visit(child, typing_only)

    visit(ast.parse(source), False)
    return found


@functools.cache
def _all_imports() -> tuple[Import, ...]:
    files = _module_files()
    known = set(files)
    out: list[Import] = []
    for module, path in files.items():
        out.extend(scan_imports(module, path.read_text(), path.name == "__init__.py", known))
    return tuple(out)


def _package_of(name: str, packages) -> str | None:
    return next((p for p in packages if name == p or name.startswith(p + ".")), None)


def _where(imp: Import) -> str:
    return f"{imp.module} (line {imp.line}) imports {imp.target}"


def test_the_scan_sees_lazy_relative_and_dynamic_imports():
    source = (
        "import os\n"
        "from . import sibling\n"
        "from ..lsp import server\n"
        "def later():\n"
        "    from papercycle.trainer.data import split\n"
        "    importlib.import_module('papercycle.cli.main')\n"
        "if TYPE_CHECKING:\n"
        "    from papercycle.lsp.outline import Outline\n"
    )
    known = {"papercycle.daemon.sibling", "papercycle.lsp.server", "papercycle.trainer.data.split"}
    found = scan_imports("papercycle.daemon.engine", source, True, known)
    assert [(i.target, i.typing_only) for i in found] == [
        ("os", False),
        ("papercycle.daemon.engine", False),  # `sibling` is no module of ours under engine
        ("papercycle.daemon.lsp", False),
        ("papercycle.trainer.data.split", False),
        ("papercycle.cli.main", False),
        ("papercycle.lsp.outline", True),
    ]


def test_the_graph_covers_every_package():
    modules = {imp.module for imp in _all_imports()}
    for package in ALLOWED:  # `private` is one module: its package's __init__
        assert any(m == package or m.startswith(package + ".") for m in modules), package
    assert len(_all_imports()) > 500


def test_dependencies_point_one_way():
    wrong = [
        _where(imp)
        for imp in _all_imports()
        if imp.target.startswith("papercycle.")
        and _package_of(imp.target, ALLOWED[_package_of(imp.module, ALLOWED)]) is None
    ]
    assert wrong == []


def test_a_forbidden_direction_is_seen():
    """The rule bites: each of these imports breaks one arrow of the picture."""
    forbidden = [
        Import("papercycle.latex.model", "papercycle.daemon.config", 1, False),
        Import("papercycle.formats.review", "papercycle.latex.model", 1, False),
        Import("papercycle.lsp.session", "papercycle.daemon.jobs", 1, False),
        Import("papercycle.trainer.recipes.sft", "papercycle.daemon.server", 1, False),
        Import("papercycle.daemon.jobs", "papercycle.lsp.session", 1, False),
    ]
    for imp in forbidden:
        assert _package_of(imp.target, ALLOWED[_package_of(imp.module, ALLOWED)]) is None, imp


def test_only_the_trainer_imports_torch_even_lazily():
    wrong = [
        _where(imp)
        for imp in _all_imports()
        if imp.target.split(".")[0] in HEAVY and not imp.module.startswith("papercycle.trainer")
    ]
    assert wrong == []


def _circles(graph: dict[str, set[str]]) -> set[frozenset[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: set[frozenset[str]] = set()
    for start in graph:
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.add(member)
                    if member == node:
                        break
                if len(component) > 1:
                    out.add(frozenset(component))
    return out


def test_circle_finder_finds_a_circle():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": set()}
    assert _circles(graph) == {frozenset("abc")}


def test_no_import_circle_between_daemon_modules():
    """Lazy imports count (a circle held together by an import inside a function is still a
    circle); imports only a type checker reads do not run and do not count."""
    daemon = {m for m in _module_files() if m.startswith("papercycle.daemon.")}
    graph: dict[str, set[str]] = {m: set() for m in daemon}
    for imp in _all_imports():
        if (
            imp.module in daemon
            and imp.target in daemon
            and imp.target != imp.module
            and not imp.typing_only
        ):
            graph[imp.module].add(imp.target)
    circles = _circles(graph)
    assert circles - KNOWN_CIRCLES == set(), "a new import circle"
    assert KNOWN_CIRCLES - circles == set(), "a known circle is gone: delete it from KNOWN_CIRCLES"
