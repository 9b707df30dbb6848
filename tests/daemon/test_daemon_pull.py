"""`papercycle models pull` end to end, without the internet: a Hub on 127.0.0.1
(hub_server.py, `HF_ENDPOINT`) serves repositories built from the tiny test models; the CLI
runs as a user runs it, in a subprocess with its own home."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from hub_server import Hub, Repo, start
from papercycle.daemon.config import Config
from papercycle.daemon.models import pull as pull_module
from papercycle.daemon.models.pull import PullError, PullRequest, pull

GGUF_REPO = "papercycle-test/tiny-llama-GGUF"
GGUF_FILE = "tiny-llama.F32.gguf"
CUT_AT = 10_500_000  # bytes: past the first 10 MiB chunk, before the end (10.55 MB)


@pytest.fixture
def hub():
    hub, server = start(Hub())
    yield hub
    server.shutdown()
    server.server_close()


@pytest.fixture
def gguf_repo(hub, tiny_models) -> Repo:
    path, _ = tiny_models.gguf("llama", "f32")  # 11 MB: more than one download chunk
    readme = b"---\nlicense: apache-2.0\n---\nA tiny random-weight Llama.\n"
    repo = Repo({GGUF_FILE: path.read_bytes(), "README.md": readme}, licence="apache-2.0")
    hub.repos[GGUF_REPO] = repo
    return repo


def papercycle(home: Path, hub: Hub | None, *args: str, token: str | None = None, **env):
    environment = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PAPERCYCLE_HOME": str(home),
        "HF_HOME": str(home / "hf"),  # no token stored by a real login
        "HF_HUB_DISABLE_PROGRESS_BARS": "1",
        "HF_ENDPOINT": hub.url if hub else "http://127.0.0.1:9",
        **env,
    }
    if token:
        environment["HF_TOKEN"] = token
    return subprocess.run(
        [sys.executable, "-m", "papercycle.cli", *args],
        capture_output=True,
        text=True,
        env=environment,
        timeout=600,
    )


def registered(home: Path) -> dict:
    models = tomllib.loads((home / "config" / "config.toml").read_text())["models"]
    return {m["name"]: m for m in models}


def one_error_line(result) -> str:
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    return lines[0]


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_the_installed_default_is_pulled_offline(tmp_path: Path, smollm2_gguf: Path) -> None:
    pulled = papercycle(
        tmp_path, None, "models", "pull", "smollm2-135m-instruct", HF_HUB_OFFLINE="1"
    )
    assert pulled.returncode == 0, pulled.stderr
    assert "nothing to download" in pulled.stdout
    assert "Apache-2.0" in pulled.stdout  # the licence line
    model = registered(tmp_path)["smollm2-135m-instruct"]
    assert (model["path"], model["format"], model["n_ctx"]) == (
        str(smollm2_gguf),
        "deepreviewer",
        8192,
    )
    assert not (tmp_path / "data").exists()  # nothing copied
    listed = papercycle(tmp_path, None, "models", "list")
    assert "smollm2-135m-instruct" in listed.stdout and "[ok]" in listed.stdout


def test_a_gguf_repository_is_pulled_resumed_checked_and_registered(
    tmp_path: Path, hub: Hub, gguf_repo: Repo
) -> None:
    # the first transfer stops past huggingface_hub's first 10 MiB chunk (what it has written
    # when the connection drops), so the rest is asked for with a Range request
    hub.cut_once[GGUF_FILE] = CUT_AT
    pulled = papercycle(tmp_path, hub, "models", "pull", GGUF_REPO)
    assert pulled.returncode == 0, pulled.stderr
    assert hub.gets(GGUF_FILE) == [None, "bytes=10485760-"]
    file = tmp_path / "data" / "models" / "tiny-llama-gguf" / GGUF_FILE
    assert sha256(file) == gguf_repo.etag(GGUF_FILE)
    assert not list(file.parent.glob("*.part"))
    # told before the download: the licence and what it needs
    lines = pulled.stdout.splitlines()
    assert lines[0].startswith("licence: apache-2.0")
    assert lines[1].startswith("needs: 10 MiB to download")
    model = registered(tmp_path)["tiny-llama-gguf"]
    assert (model["path"], model["hf_repo"], model["revision"]) == (
        str(file),
        GGUF_REPO,
        gguf_repo.sha,
    )
    assert (model["role"], model["format"]) == ("reviewer", "deepreviewer")
    listed = papercycle(tmp_path, hub, "models", "list")
    assert "tiny-llama-gguf" in listed.stdout and "[ok]" in listed.stdout
    # the same commit again: registered from what is here, nothing fetched
    again = papercycle(tmp_path, hub, "models", "pull", GGUF_REPO)
    assert again.returncode == 0 and "nothing to download" in again.stdout
    assert len(hub.gets(GGUF_FILE)) == 2


def test_a_partial_file_from_an_earlier_run_is_resumed(
    tmp_path: Path, hub: Hub, gguf_repo: Repo
) -> None:
    data = gguf_repo.files[GGUF_FILE]
    folder = tmp_path / "data" / "models" / "tiny"
    folder.mkdir(parents=True)
    (folder / f"{GGUF_FILE}.part").write_bytes(data[: len(data) // 3])
    pulled = papercycle(tmp_path, hub, "models", "pull", GGUF_REPO, "--name", "tiny")
    assert pulled.returncode == 0, pulled.stderr
    assert hub.gets(GGUF_FILE) == [f"bytes={len(data) // 3}-"]
    assert (folder / GGUF_FILE).read_bytes() == data


def test_a_corrupt_partial_file_is_caught_by_the_checksum(
    tmp_path: Path, hub: Hub, gguf_repo: Repo
) -> None:
    data = gguf_repo.files[GGUF_FILE]
    folder = tmp_path / "data" / "models" / "tiny-llama-gguf"
    folder.mkdir(parents=True)
    (folder / f"{GGUF_FILE}.part").write_bytes(b"\0" * (len(data) // 2))
    line = one_error_line(papercycle(tmp_path, hub, "models", "pull", GGUF_REPO))
    assert "does not match the repository's checksum" in line and "pull again" in line
    assert not (folder / f"{GGUF_FILE}.part").exists() and not (folder / GGUF_FILE).exists()
    assert "tiny-llama-gguf" not in registered_or_empty(tmp_path)
    pulled = papercycle(tmp_path, hub, "models", "pull", GGUF_REPO)
    assert pulled.returncode == 0, pulled.stderr
    assert (folder / GGUF_FILE).read_bytes() == data


def registered_or_empty(home: Path) -> dict:
    return registered(home) if (home / "config" / "config.toml").exists() else {}


def test_a_gated_repository_names_hf_token(tmp_path: Path, hub: Hub, gguf_repo: Repo) -> None:
    gguf_repo.gated = True
    # no token: refused before any download
    line = one_error_line(papercycle(tmp_path, hub, "models", "pull", GGUF_REPO))
    assert "is gated" in line and "HF_TOKEN" in line and "nothing was downloaded" in line
    assert hub.gets(GGUF_FILE) == []
    # a token the Hub refuses (terms not accepted): its 401 GatedRepo, in one line
    refused = papercycle(tmp_path, hub, "models", "pull", GGUF_REPO, token="hf_not_accepted")
    line = one_error_line(refused)
    assert "is gated" in line and "HF_TOKEN is set but was refused" in line
    # the accepted token
    pulled = papercycle(tmp_path, hub, "models", "pull", GGUF_REPO, token=hub.token)
    assert pulled.returncode == 0, pulled.stderr


def test_unknown_repository_quantization_and_name_are_one_line(
    tmp_path: Path, hub: Hub, gguf_repo: Repo
) -> None:
    line = one_error_line(papercycle(tmp_path, hub, "models", "pull", "nobody/nothing-GGUF"))
    assert "nobody/nothing-GGUF: no such repository on http://127.0.0.1" in line
    line = one_error_line(papercycle(tmp_path, hub, "models", "pull", GGUF_REPO, "--quant", "Q8_0"))
    assert f"has no Q8_0 GGUF (it has {GGUF_FILE})" in line
    line = one_error_line(papercycle(tmp_path, hub, "models", "pull", GGUF_REPO, "--quant", "Q3"))
    assert "unknown quantization 'Q3'" in line
    line = one_error_line(papercycle(tmp_path, hub, "models", "pull", "gpt-9"))
    assert "no model 'gpt-9' in the catalogue" in line and "OWNER/NAME" in line
    line = one_error_line(papercycle(tmp_path, None, "models", "pull", GGUF_REPO))
    assert "cannot reach http://127.0.0.1:9" in line
    assert hub.gets(GGUF_FILE) == []


def test_a_model_this_machine_cannot_hold_is_refused_with_the_numbers(
    tmp_path: Path, hub: Hub, tiny_models
) -> None:
    # the catalogue's 123B reviewer at F16 (the Hub here serves a tiny stand-in for its files)
    hub.repos["WestlakeNLP/CycleReviewer-ML-Pro-123B"] = Repo.from_folder(
        tiny_models.hf("llama"), gated=True
    )
    refused = papercycle(
        tmp_path, hub, "models", "pull", "cyclereviewer-123b", "--quant", "F16", token=hub.token
    )
    line = one_error_line(refused)
    assert line.startswith("papercycle: error: not pulled: it needs 229.1 GiB of disk but")
    assert "GiB of RAM but this machine has" in line and "--force" in line
    assert "CycleResearcher License" in refused.stdout
    assert "needs: 10 MiB to download, 229.1 GiB of disk" in refused.stdout
    assert not [entry for entry in hub.log if "/resolve/" in entry[1]]  # nothing downloaded


def test_a_full_disk_is_refused_before_the_download(
    tmp_path: Path, hub: Hub, gguf_repo: Repo, monkeypatch
) -> None:
    # no real way to fill a disk here: the pre-download check reads free space through this
    monkeypatch.setattr(pull_module, "free_disk", lambda path: 1_000_000)
    config = Config.load(tmp_path / "config.toml")
    request = PullRequest(GGUF_REPO, tmp_path / "models", endpoint=hub.url)
    said: list[str] = []
    with pytest.raises(PullError, match=r"needs 10 MiB of disk but 977 KiB is free at"):
        pull(request, config, said.append)
    assert hub.gets(GGUF_FILE) == [] and not (tmp_path / "models").exists()
    assert said[0].startswith("licence: apache-2.0")
    request.force = True
    model = pull(request, config, said.append)
    assert Path(model.path).read_bytes() == gguf_repo.files[GGUF_FILE]


@pytest.mark.slow
def test_a_checkpoint_is_downloaded_exported_and_registered(
    tmp_path: Path, hub: Hub, tiny_models
) -> None:
    """DeepReviewer-7B's catalogue entry, its repository served with the tiny Llama checkpoint:
    download, `papercycle export`, registration with the entry's format and role."""
    checkpoint = tiny_models.hf("llama")
    repo = Repo.from_folder(checkpoint, gated=True)
    hub.repos["WestlakeNLP/DeepReviewer-7B"] = repo
    hub.cut_once["model.safetensors"] = 5_000_000  # inside the first chunk: fetched again
    pulled = papercycle(
        tmp_path,
        hub,
        "models", "pull", "deepreviewer-7b", "--quant", "Q8_0", "--n-ctx", "2048",
        "--pre-tokenizer", "gpt-2",
        token=hub.token,
    )  # fmt: skip
    assert pulled.returncode == 0, pulled.stdout + pulled.stderr
    assert "CycleResearcher License" in pulled.stdout
    assert "unknown KV cache" in pulled.stdout  # DeepReviewer-7B's shape is not confirmed
    folder = tmp_path / "data" / "models" / "deepreviewer-7b"
    model = registered(tmp_path)["deepreviewer-7b"]
    assert model["path"] == str(folder / "deepreviewer-7b-Q8_0.gguf")
    assert (model["format"], model["role"], model["n_ctx"]) == ("deepreviewer", "reviewer", 2048)
    assert (model["hf_repo"], model["revision"]) == ("WestlakeNLP/DeepReviewer-7B", repo.sha)
    assert len(hub.gets("model.safetensors")) == 2  # fetched again after the cut
    assert not (folder / "checkpoint").exists()  # removed after the export
    listed = papercycle(tmp_path, hub, "models", "list")
    assert "deepreviewer-7b" in listed.stdout and "[ok]" in listed.stdout
    shutil.rmtree(folder)
