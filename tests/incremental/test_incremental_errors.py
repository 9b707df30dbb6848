"""A project's errors are kept and replayed: every section fails at once when no reviewer model
is configured, before any client subscribed (an editor subscribes after it opened the project);
a subscriber that comes later still hears each of them, and a section that is then reviewed
(a model added, the section edited) drops out of the project's current errors."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from daemon_helpers import serve_home
from home_helpers import model_entries
from incremental_helpers import Watch, ten_sections
from papercycle.daemon.client import Client
from waiting import eventually

SETTINGS = "[daemon]\nexit_after_idle = 600\nwatch_debounce = 0.2\n"


@pytest.fixture
def bare_home():
    """A home whose configuration file exists with no model (no catalogue default either)."""
    root = Path(tempfile.mkdtemp(prefix="pce-"))
    (root / "config").mkdir()
    (root / "config" / "config.toml").write_text(SETTINGS)
    yield from serve_home(root)


def errors_of(events: list[dict]) -> dict[str, str]:
    return {e.get("section", "project"): e["message"] for e in events if e["event"] == "error"}


async def test_errors_before_a_subscription_are_replayed_until_fixed(bare_home, project, tiny_gguf):
    async with Client() as client:
        opened = await client.request("project.open", {"path": str(project), "paper": "auto"})
        ident = opened["project"]
        sections = [s["id"] for s in opened["sections"]]
        assert len(sections) == 10

        async def failed() -> dict:
            status = await client.request("project.status", {"project": ident})
            return status["idle"] and set(status["errors"]) >= {*sections, "paper"} and status

        await eventually(failed, "every section and the paper failed", timeout=60, interval=0.1)
        async with Watch(client, ident) as watch:
            await watch.wait_for(lambda e: e["event"] == "error" and e["section"] == "paper")
            replayed = errors_of(watch.events)
        assert set(replayed) == {*sections, "paper"}
        assert all("no reviewer model configured" in m for m in replayed.values())

        # a model appears, one section is edited: reviewed, it leaves the current errors
        config = bare_home.root / "config" / "config.toml"
        config.write_text(SETTINGS + model_entries(tiny_gguf))
        (project / "main.tex").write_text(ten_sections({3: "Topic three is now measured."}))
        edited = next(s for s in sections if "Topic 3" in s)

        async def reviewed() -> dict:
            status = await client.request("project.status", {"project": ident})
            return status["idle"] and edited not in status["errors"] and status

        status = await eventually(
            reviewed, "the edited section reviewed", timeout=120, interval=0.2
        )
        assert set(status["errors"]) >= set(sections) - {edited}
        async with Watch(client, ident) as late:
            await late.wait_for(lambda _: len(errors_of(late.events)) >= len(status["errors"]))
            assert edited not in errors_of(late.events)
