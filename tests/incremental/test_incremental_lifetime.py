"""Open projects do not outlive their clients: a project whose client died or forgot it is
closed (its watcher stopped); one with a live subscription stays open."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

from incremental_helpers import Watch, ten_sections
from papercycle.daemon.client import Client
from waiting import eventually

IDLE = 1.5


def _set_idle_timeout(home, seconds: float) -> None:
    config = Path(home.root) / "config" / "config.toml"
    text = config.read_text()
    assert "[daemon]\n" in text
    config.write_text(text.replace("[daemon]\n", f"[daemon]\nproject_idle_timeout = {seconds}\n"))


async def _open(client: Client, root: Path) -> str:
    return (await client.request("project.open", {"path": str(root), "paper": "off"}))["project"]


async def _open_projects(client: Client) -> set[str]:
    return {p["project"] for p in (await client.request("status"))["projects"]}


async def _closed(client: Client, project: str) -> bool:
    return project not in await _open_projects(client)


async def test_a_forgotten_project_is_closed_a_subscribed_one_stays(home, tmp_path):
    _set_idle_timeout(home, IDLE)
    held, forgotten = tmp_path / "held", tmp_path / "forgotten"
    for root in (held, forgotten):
        root.mkdir()
        (root / "main.tex").write_text(ten_sections())
    async with Client() as client:
        kept = await _open(client, held)
        async with Client() as other:  # opens a project, never closes it, and leaves
            gone = await _open(other, forgotten)
        async with Watch(client, kept):
            assert await _open_projects(client) == {kept, gone}
            await eventually(
                lambda: _closed(client, gone),
                "the forgotten project closed",
                lambda: _open_projects(client),
                30,
                interval=0.2,
            )
            # "stays open" can only be seen over a duration: past two idle timeouts, with the
            # sweep (once a second) closing `gone` meanwhile, the subscription still holds `kept`
            await asyncio.sleep(2 * IDLE)
            assert await _open_projects(client) == {kept}


SUBSCRIBER = textwrap.dedent(
    """
    import asyncio, sys
    from papercycle.daemon.client import Client

    async def main():
        async with Client() as client:
            opened = await client.request("project.open", {"path": sys.argv[1], "paper": "off"})
            stream = client.stream("subscribe", {"project": opened["project"]})
            async for event in stream:
                if event["event"] == "anchored":
                    print("subscribed", flush=True)
    asyncio.run(main())
    """
)


async def test_a_project_is_closed_when_its_only_client_is_killed(home, project):
    _set_idle_timeout(home, 600)  # not the sweep: the daemon notices the closed socket
    async with Client() as client:
        await client.request("status")  # the daemon runs before the subscriber starts
        child = subprocess.Popen(
            [sys.executable, "-c", SUBSCRIBER, str(project)],
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            line = await asyncio.wait_for(asyncio.to_thread(child.stdout.readline), 120)
            assert line.strip() == "subscribed"
            (opened,) = await _open_projects(client)
            os.kill(child.pid, signal.SIGKILL)
            child.wait()
            # an update is sent to the dead subscriber: its socket is gone, so is its project
            (project / "main.tex").write_text(ten_sections({2: "Topic two, rewritten."}))
            await eventually(
                lambda: _closed(client, opened),
                "the dead subscriber's project closed",
                lambda: _open_projects(client),
                30,
                interval=0.2,
            )
        finally:
            if child.poll() is None:
                child.kill()


async def test_a_subscription_ends_when_its_project_is_closed(home, project):
    async with Client() as opener, Client() as watcher:
        opened = await _open(opener, project)
        stream = watcher.stream("subscribe", {"project": opened})
        events = []

        async def pump():
            async for event in stream:
                events.append(event)

        pumping = asyncio.create_task(pump())
        await eventually(
            lambda: _any_anchored(events),
            "an anchored event",
            lambda: [e["event"] for e in events],
            30,
            interval=0.2,
        )
        closed = await opener.request("project.close", {"project": opened})
        assert closed == {"closed": True}
        await asyncio.wait_for(pumping, 10)
        assert stream.result == {"closed": True}


async def _any_anchored(events: list[dict]) -> bool:
    return any(e["event"] == "anchored" for e in events)
