"""The checks of `papercycle doctor`, each a function returning `Check` lines: what was found,
and for a problem the command or setting that fixes it. No check raises: a check that cannot
look (an unreadable file, a daemon that does not answer) says so as its own line."""

from __future__ import annotations

import contextlib
import os
import sys
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from papercycle.daemon.config import Config, ConfigError, ModelConfig
from papercycle.daemon.paths import Paths

MIN_PYTHON = (3, 11)
# Tokens per character of LaTeX prose, for a model whose tokenizer cannot be read here (an
# HTTP endpoint): about 4 characters a token in English BPE vocabularies
CHARS_PER_TOKEN = 4
# the mode `papercycle review` and the editors ask for by default
REVIEW_MODE = "standard"
# an answer budget above this share of the context leaves too little of it for a paper
ANSWER_SHARE = 0.75


@dataclass
class Check:
    topic: str
    status: str  # "ok", "problem", or "note" (not found, not needed: not a problem)
    detail: str
    fix: str = ""

    def line(self) -> str:
        fix = f" -> {self.fix}" if self.fix else ""
        return f"{self.status:<7} {self.topic:<10} {self.detail}{fix}"


def python_check() -> list[Check]:
    found = ".".join(map(str, sys.version_info[:3]))
    if sys.version_info[:2] < MIN_PYTHON:
        return [Check("python", "problem", f"{found} at {sys.executable}", "use Python >= 3.11")]
    return [Check("python", "ok", f"{found} at {sys.executable}")]


def llama_check(config: Config | None) -> list[Check]:
    """llama-cpp-python importable, its version, and whether it was built with a GPU backend
    (a problem only when a configured model asks for GPU layers)."""
    try:
        llama_version = version("llama-cpp-python")
        from papercycle.daemon.models.gpu_support import REBUILD_HINT, gpu_offload_supported

        gpu = gpu_offload_supported()
    except (PackageNotFoundError, ImportError, OSError) as error:
        return [
            Check(
                "llama.cpp",
                "problem",
                f"llama-cpp-python cannot be loaded ({error})",
                "pip install llama-cpp-python==0.3.36 (compiles llama.cpp: a C compiler + CMake)",
            )
        ]
    if gpu:
        return [Check("llama.cpp", "ok", f"llama-cpp-python {llama_version}, GPU backend built in")]
    wanting = [m.name for m in (config.models.values() if config else []) if m.n_gpu_layers]
    if wanting:
        return [
            Check(
                "llama.cpp",
                "problem",
                f"llama-cpp-python {llama_version} is CPU only but n_gpu_layers is set for "
                + ", ".join(wanting),
                REBUILD_HINT,
            )
        ]
    return [
        Check("llama.cpp", "ok", f"llama-cpp-python {llama_version}, CPU only (no GPU backend)")
    ]


def config_check(paths: Paths) -> tuple[Config | None, list[Check]]:
    file = paths.config_file
    try:
        config = Config.load(file)
    except ConfigError as error:
        return None, [Check("config", "problem", str(error), f"edit {file}")]
    if not file.exists():
        return config, [
            Check(
                "config",
                "ok",
                f"{file} not written yet (a first review registers the embedded model)",
                "",
            )
        ]
    return config, [Check("config", "ok", str(file))]


def models_check(config: Config) -> list[Check]:
    from papercycle.daemon.models import trained_for
    from papercycle.daemon.models.registry import ModelError, check_model

    if not config.models:
        return [
            Check(
                "models",
                "problem",
                "no model configured",
                "papercycle models add reviewer smollm2-135m-instruct (installed with "
                "papercycle), or papercycle models pull NAME",
            )
        ]
    lines = []
    for model in config.models.values():
        where = model.url if model.backend == "http" else model.path
        try:
            meta = check_model(model)
        except ModelError as error:
            fix = f"papercycle models remove {model.name}, then models add/pull it again"
            lines.append(Check("model", "problem", str(error), fix))
            continue
        about = f", {meta.architecture} {meta.quantization}" if meta else ""
        trained = trained_for.trained_for(model)
        if trained is not None and trained.format == model.format:
            about += f", {trained.describe()}"
        lines.append(
            Check(
                "model",
                "ok",
                f"{model.name}: {model.role}, format {model.format}, n_ctx {model.n_ctx}"
                f"{about} ({where})",
            )
        )
        mismatch = trained_for.mismatch(model)
        if mismatch:
            detail, fix = mismatch.split(": papercycle ", 1)
            lines.append(Check("model", "problem", detail, f"papercycle {fix}"))
    return lines


def budget_check(config: Config) -> list[Check]:
    """Each usable model fits the daemon's memory budget, the budget fits this machine, and a
    model's own answer budget (max_tokens) leaves room in its context for the paper."""
    from papercycle.daemon.models.gguf_metadata import GGUFError
    from papercycle.daemon.models.registry import estimate_memory, machine_memory

    budget_mb = config.daemon.memory_budget_mb
    lines = []
    ram = machine_memory()
    if ram is not None and budget_mb * 2**20 > ram:
        lines.append(
            Check(
                "budget",
                "problem",
                f"memory_budget_mb {budget_mb} is more than this machine's {ram / 2**20:,.0f} MiB",
                f"lower [daemon] memory_budget_mb in {config.path}",
            )
        )
    for model in config.models.values():
        try:
            need = estimate_memory(model)
        except (GGUFError, OSError):
            continue  # the model line above names the file's problem
        if need > budget_mb * 2**20:
            lines.append(
                Check(
                    "budget",
                    "problem",
                    f"{model.name} needs about {need / 2**20:,.0f} MiB (weights + KV cache at "
                    f"n_ctx {model.n_ctx}), more than memory_budget_mb {budget_mb}",
                    f"raise [daemon] memory_budget_mb in {config.path} or lower its n_ctx",
                )
            )
        answer = model.sampling.get("max_tokens")
        if isinstance(answer, int) and answer > model.n_ctx * ANSWER_SHARE:
            lines.append(
                Check(
                    "budget",
                    "problem",
                    f"{model.name}: max_tokens {answer} leaves {max(0, model.n_ctx - answer)} of "
                    f"its {model.n_ctx} tokens (n_ctx) for the paper",
                    f"lower its [models.sampling] max_tokens or raise n_ctx in {config.path}",
                )
            )
    if not lines:
        lines.append(
            Check("budget", "ok", f"memory_budget_mb {budget_mb}: every model fits, with room")
        )
    return lines


@contextlib.contextmanager
def _quiet_stderr():
    """llama.cpp writes its loader's notes to file descriptor 2 whatever `verbose` says; the
    doctor's lines are the output here."""
    saved = os.dup(2)
    try:
        with open(os.devnull, "wb") as devnull:
            os.dup2(devnull.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def paper_tokens(model: ModelConfig, text: str) -> tuple[int, str]:
    """The paper's length in this model's tokens (its own vocabulary, read without the
    weights), or estimated from its characters for an endpoint."""
    if model.backend == "llama":
        from papercycle.daemon.models.llama_backend import Tokenizer

        with contextlib.suppress(Exception), _quiet_stderr():  # a broken file: its model line
            return Tokenizer(model.path).count(text), "tokens"
    return len(text) // CHARS_PER_TOKEN, "tokens (estimated)"


def context_check(config: Config, paper: Path) -> list[Check]:
    """The paper (its text as the reviewer reads it) and a review's answer against each
    reviewer's context: whether a whole-paper review fits, else what to do."""
    from papercycle.daemon.engine.budgets import default_budget
    from papercycle.latex.files import ProjectError
    from papercycle.latex.model import Project

    folder = paper if paper.is_dir() else paper.parent
    try:
        text = Project.build(paper).text
        chosen = config.with_project(folder)  # its .papercycle.toml may add or pick models
    except (ProjectError, OSError, ConfigError) as error:
        return [Check("paper", "problem", f"{paper}: {error}", "give the paper's folder or .tex")]
    lines = []
    reviewers = [m for m in chosen.models.values() if m.role == "reviewer"]
    for model in reviewers:
        count, unit = paper_tokens(model, text)
        answer = int(model.sampling.get("max_tokens", default_budget(model.format, REVIEW_MODE)))
        # the daemon cuts a default answer budget down to a quarter (at least 512) to fit
        need = count + (answer if "max_tokens" in model.sampling else max(512, answer // 4))
        detail = (
            f"{paper}: {count:,} {unit}; {model.name} holds {model.n_ctx:,} (n_ctx) with "
            f"{need - count:,} for the answer"
        )
        if need <= model.n_ctx:
            lines.append(Check("context", "ok", detail))
        else:
            lines.append(
                Check(
                    "context",
                    "problem",
                    detail + ": a whole-paper review does not fit",
                    "papercycle review --mode sections, a model with a longer context, "
                    "or a larger n_ctx",
                )
            )
    return lines or [Check("context", "note", f"{paper}: no reviewer model to compare with")]


def daemon_check() -> list[Check]:
    from papercycle.daemon.client import DaemonError, call

    try:
        info = call("status", autostart=False, timeout=5)
    except DaemonError as error:
        if error.code == "no-daemon":
            return [Check("daemon", "ok", "not running (it starts on the first review)")]
        return [Check("daemon", "problem", error.message, "papercycle daemon stop, then retry")]
    loaded = ", ".join(m["name"] for m in info.get("models", [])) or "no model loaded"
    return [
        Check(
            "daemon",
            "ok",
            f"running {info['version']}, pid {info['pid']}, {info['endpoint']}, {loaded}",
        )
    ]


def _mentions_papercycle(files: list[Path]) -> Path | None:
    for file in files:
        with contextlib.suppress(OSError, UnicodeDecodeError):
            if file.is_file() and "papercycle" in file.read_text()[:200_000]:
                return file
    return None


def editors_check(home: Path) -> list[Check]:
    """The editor integrations a user installed: found (where) or a note saying how."""
    lines = []
    nvim_config = home / ".config" / "nvim"
    nvim_files = [*nvim_config.glob("*.lua"), *nvim_config.glob("*.vim")]
    nvim_files += list(nvim_config.glob("lua/**/*.lua"))[:500]
    plugin_dirs = [
        *(home / ".local/share/nvim/site/pack").glob("*/*/papercycle*"),
        *(home / ".local/share/nvim/lazy").glob("papercycle*"),
    ]
    found = plugin_dirs[0] if plugin_dirs else _mentions_papercycle(nvim_files)
    lines.append(
        Check("neovim", "ok", f"plugin found ({found})")
        if found
        else Check("neovim", "note", "plugin not set up", "see editors/neovim/README.md")
    )
    emacs_files = [
        home / ".emacs",
        home / ".emacs.el",
        home / ".emacs.d" / "init.el",
        home / ".config" / "emacs" / "init.el",
    ]
    found = _mentions_papercycle(emacs_files)
    lines.append(
        Check("emacs", "ok", f"papercycle.el loaded by {found}")
        if found
        else Check("emacs", "note", "papercycle.el not loaded", "see editors/emacs/README.md")
    )
    extension_dirs = [
        home / ".vscode" / "extensions",
        home / ".vscode-server" / "extensions",
        home / ".vscode-oss" / "extensions",
        home / ".local" / "share" / "code-server" / "extensions",
    ]
    installed = [d for folder in extension_dirs for d in folder.glob("papercycle.papercycle-*")]
    lines.append(
        Check("vscode", "ok", f"extension installed ({installed[0]})")
        if installed
        else Check(
            "vscode", "note", "extension not installed", "code --install-extension papercycle.vsix"
        )
    )
    return lines
