"""The distribution's shape: package mapping, no bare packages, torch only in the trainer."""

from __future__ import annotations

import subprocess
import sys
import tomllib
import zipfile

from tiny_models import REPO_ROOT

FOLDERS = {
    "cli": "papercycle.cli",
    "daemon": "papercycle.daemon",
    "lsp": "papercycle.lsp",
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
