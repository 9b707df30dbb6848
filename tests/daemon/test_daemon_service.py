"""The daemon end to end over real sockets, with a tiny GGUF model (random weights: the
format's layout is forced by a grammar, so structure and anchoring are what is asserted)."""

from __future__ import annotations

import asyncio
import os
import signal
import stat
import subprocess
import sys

import pytest
from daemon_helpers import wait_until
from papercycle.daemon.client import Client, DaemonError, DaemonGone
from waiting import eventually

TIMEOUT = 120


@pytest.fixture(scope="module")
def home(shared_home):
    return shared_home


def fresh(paper, tag: str) -> dict:
    """Request parameters for a version of the paper no earlier test reviewed (an unsaved
    editor buffer), so the review is generated rather than read from the cache."""
    text = paper.read_text().replace("Each token", f"In variant {tag}, each token")
    return {"path": str(paper), "buffers": {str(paper): text}}


async def test_full_review_end_to_end(home, paper):
    async with Client(home.paths) as client:
        stream = client.stream("review.paper", {"path": str(paper), "model": "tiny"})
        events = [e["event"] async for e in stream]
        result = stream.result
        assert "queued" in events and "started" in events and "token" in events
        assert result["kind"] == "paper" and result["format"] == "cyclereviewer"
        assert result["decision"] in ("Accept", "Reject")
        assert {"rating", "soundness"} <= set(result["scores"])
        assert result["comments"], "the grammar forces at least one weakness and question"
        for comment in result["comments"]:
            anchor = comment["anchor"]
            assert anchor["method"] in ("quote", "reference", "keywords", "title")
            assert anchor["range"]["path"] == str(paper.resolve())
            assert "lsp" in anchor["range"]
        # hidden text is reported, and the injected instruction never reached the model
        assert any(h["injection"] for h in result["hidden"])
        assert "IGNORE ALL PREVIOUS" not in result["review"]["raw_text"]
        assert result["cached"] is False

        again = await client.request("review.paper", {"path": str(paper), "model": "tiny"})
        assert again["cached"] is True
        assert again["comments"] == result["comments"]


async def test_section_review_end_to_end(home, paper):
    async with Client(home.paths) as client:
        result = await client.request(
            "review.section",
            {"path": str(paper), "section": "Method", "model": "tiny-section"},
            timeout=TIMEOUT,
        )
    assert result["kind"] == "section" and result["section"]["number"] == "2"
    assert set(result["scores"]) == {"soundness", "clarity", "evidence"}
    assert result["comments"]
    text = paper.read_text()
    for comment in result["comments"]:
        # quotes are forced to be sentences of the section: each anchors exactly, in it
        assert comment["anchor"]["method"] == "quote"
        r = comment["anchor"]["range"]
        assert text[r["start"] : r["end"]] == comment["quote"]
        assert text.index(r"\section{Method}") < r["start"] < text.index(r"\section{Experiments}")


async def test_sections_review_the_cursor_section_first(home, paper):
    params = fresh(paper, "cursor")
    # every section's text of its own, so no later test finds them in the cache
    text = params["buffers"][str(paper)].replace("Table 1 shows", "Table 1 (cursor) shows")
    params["buffers"][str(paper)] = text
    cursor = {"path": str(paper), "offset": text.index(r"\section{Experiments}") + 30}
    async with Client(home.paths) as client:
        stream = client.stream(
            "review.sections", {**params, "model": "tiny-section", "cursor": cursor}
        )
        partial = [e["result"] async for e in stream if e["event"] == "partial"]
        result = stream.result
    order = [r["section"]["name"] for r in partial]
    reading = [r["section"]["name"] for r in result["sections"]]
    assert len(reading) > 2 and sorted(order) == sorted(reading)
    assert partial[0]["section"]["title"] == "Experiments", order
    assert order[1:] == [name for name in reading if name != order[0]]
    starts = [r["section"]["range"]["start"] for r in result["sections"]]
    assert starts == sorted(starts), "the result lists the sections in reading order"


async def test_two_concurrent_clients_share_one_job(home, paper):
    params = {"path": str(paper), "section": "Experiments", "model": "tiny-section"}
    async with Client(home.paths) as first, Client(home.paths) as second:
        one, two = first.stream("review.section", params), second.stream("review.section", params)

        async def collect(stream):
            return [e async for e in stream]

        events_one, events_two = await asyncio.wait_for(
            asyncio.gather(collect(one), collect(two)), TIMEOUT
        )
    assert one.result["comments"] == two.result["comments"]
    queued = [e for e in events_one + events_two if e["event"] == "queued"]
    # The same document version from two windows: one generation, or (if the first finished
    # before the second asked) a cached answer; never two generations.
    assert any(e["coalesced"] for e in queued) or one.result["cached"] or two.result["cached"]
    assert len({e["job"] for e in queued}) == 1


async def test_cancel_stops_generation_within_one_step(home, paper):
    async with Client(home.paths) as client:
        params = {**fresh(paper, "cancel"), "model": "tiny", "priority": "interactive"}
        stream = client.stream("review.paper", params)
        cancelled = False
        with pytest.raises(DaemonError) as caught:
            async for event in stream:
                if event["event"] == "token" and not cancelled:
                    # tokens already on their way still arrive; the daemon stops decoding
                    assert await client.cancel(stream.id)
                    cancelled = True
        assert caught.value.code == "cancelled"
        assert caught.value.data["tokens_after_cancel"] <= 1
        # the model is free: the next request runs
        status = await client.request("status")
        assert status["queue"]["running"] is None
        done = await client.request(
            "review.section",
            {"path": str(paper), "section": "Abstract", "model": "tiny-section"},
            timeout=TIMEOUT,
        )
        assert done["kind"] == "section"


async def test_client_disconnect_cancels_its_job(home, paper):
    before = None
    async with Client(home.paths) as watcher:
        before = (await watcher.request("cache.stats"))["entries"]
        leaving = Client(home.paths)
        await leaving.connect()
        stream = leaving.stream("review.paper", {**fresh(paper, "leaving"), "model": "tiny"})
        async for event in stream:
            if event["event"] == "token":
                break
        await leaving.close()  # the editor window closed mid-stream
        wait_until(
            lambda: "client gone" in home.log(),
            "the daemon logs the client gone",
            lambda: home.log()[-500:],
            timeout=30,
        )
        # the log line says the cancel was asked for; the job ends at its next token (idle, the
        # status request could come first: seen once in an idle full run)

        async def queue():
            return (await watcher.request("status"))["queue"]

        async def tiny_job_ended():
            running = (await queue())["running"]
            return running is None or running["model"] != "tiny"

        await eventually(tiny_job_ended, "the cancelled job leaves the queue", queue, timeout=30)
        assert (await watcher.request("cache.stats"))["entries"] == before


async def test_malformed_messages_are_answered_and_the_daemon_keeps_serving(home):
    import json

    async with Client(home.paths) as client:
        replies = []

        async def raw(payload: bytes):
            await client.send_raw(payload)

        sock = client._socket
        for payload, code in [
            (b"\xff\xfe not json", "bad-request"),
            (b"[1, 2, 3]", "bad-request"),
            (json.dumps({"v": 1, "type": "status"}).encode(), "bad-request"),
            (json.dumps({"v": 99, "id": "old", "type": "status"}).encode(), "version"),
            (json.dumps({"v": 1, "id": "x", "type": "launch-missiles"}).encode(), "bad-request"),
            (b"{" + b" " * (16 * 1024 * 1024 + 10) + b"}", "too-large"),
        ]:
            await raw(payload)
            # the client routes by id; id-less errors are read straight off the socket here
            client._tasks[0].cancel()
            reply = json.loads(await asyncio.wait_for(sock.recv(), 30))
            client._tasks[0] = asyncio.create_task(client._receive())
            replies.append(reply)
            assert reply["type"] == "error" and reply["error"]["code"] == code, reply
        assert "version 1" in replies[3]["error"]["message"]
        assert "limit" in replies[5]["error"]["message"]
        status = await client.request("status")
        assert status["bad_messages"] >= 6


def test_socket_directory_is_private(home):
    info = home.start()
    mode = stat.S_IMODE(home.paths.runtime.stat().st_mode)
    assert mode == 0o700
    assert info["endpoint"].startswith("ipc://")
    assert stat.S_IMODE(home.paths.info_file.stat().st_mode) == 0o600


def test_second_daemon_refuses_to_start(home):
    info = home.start()
    second = subprocess.run(
        [sys.executable, "-m", "papercycle.daemon"],
        env=home.env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert second.returncode == 1
    assert f"already running (pid {info['pid']}" in second.stderr
    assert home.info()["pid"] == info["pid"]


async def test_busy_when_the_queue_is_full(isolated_home, paper, tiny_gguf):
    from daemon_helpers import model_entries

    isolated_home.paths.config_file.write_text(
        "[daemon]\nmax_queue = 1\nexit_after_idle = 600\n" + model_entries(tiny_gguf)
    )
    async with Client(isolated_home.paths) as client:
        streams = [
            client.stream(
                "review.section", {"path": str(paper), "section": name, "model": "tiny-section"}
            )
            for name in ("Abstract", "Introduction", "Method", "Experiments")
        ]

        async def outcome(stream):
            try:
                await stream.wait(TIMEOUT)
                return "ok"
            except DaemonError as error:
                return error

        outcomes = await asyncio.gather(*(outcome(s) for s in streams))
    busy = [o for o in outcomes if isinstance(o, DaemonError)]
    assert busy and all(o.code == "busy" for o in busy)
    assert "daemon busy" in busy[0].message and "limit 1" in busy[0].message
    assert "ok" in outcomes


async def test_kill_9_mid_review_then_autostart_with_cache_intact(isolated_home, paper):
    async with Client(isolated_home.paths) as client:
        cached = await client.request(
            "review.section",
            {"path": str(paper), "section": "Method", "model": "tiny-section"},
            timeout=TIMEOUT,
        )
        pid = client.hello["pid"]
        stream = client.stream("review.paper", {**fresh(paper, "kill"), "model": "tiny"})
        with pytest.raises(DaemonGone) as caught:
            async for event in stream:
                if event["event"] == "token":
                    os.kill(pid, signal.SIGKILL)
        assert f"pid {pid}" in str(caught.value)
        await client.reconnect()  # auto-starts a new daemon
        assert client.hello["pid"] != pid
        again = await client.request(
            "review.section",
            {"path": str(paper), "section": "Method", "model": "tiny-section"},
            timeout=TIMEOUT,
        )
    assert again["cached"] is True and again["comments"] == cached["comments"]


async def test_sigterm_cancels_running_jobs_and_cleans_up(isolated_home, paper):
    async with Client(isolated_home.paths) as client:
        pid = client.hello["pid"]
        stream = client.stream("review.paper", {**fresh(paper, "term"), "model": "tiny"})
        with pytest.raises(DaemonError) as caught:
            async for event in stream:
                if event["event"] == "token":
                    os.kill(pid, signal.SIGTERM)
        assert caught.value.code in ("shutdown", "gone")
    wait_until(
        lambda: not isolated_home.paths.info_file.exists(),
        "daemon.json removed",
        lambda: isolated_home.log()[-500:],
        timeout=30,
    )
    assert not isolated_home.paths.socket_file.exists()
    assert "stopped" in isolated_home.log()


async def test_idle_model_is_unloaded_after_keep_alive(isolated_home, paper, tiny_gguf):
    from daemon_helpers import model_entries

    isolated_home.paths.config_file.write_text(
        "[daemon]\nkeep_alive = 0.5\nexit_after_idle = 600\n" + model_entries(tiny_gguf)
    )
    async with Client(isolated_home.paths) as client:
        await client.request(
            "review.section",
            {"path": str(paper), "section": "Method", "model": "tiny-section"},
            timeout=TIMEOUT,
        )

        # The daemon sweeps idle models once a second; a loaded machine can delay that.
        async def loaded_models():
            return (await client.request("status"))["models"]

        async def unloaded():
            return await loaded_models() == []

        await eventually(unloaded, "the idle model unloaded", loaded_models, 60, interval=0.2)
    assert "unloaded tiny-section" in isolated_home.log()


async def test_tcp_transport_requires_the_token(isolated_home, tiny_gguf):
    import json

    import zmq
    import zmq.asyncio
    from daemon_helpers import model_entries

    isolated_home.paths.config_file.write_text(
        '[daemon]\ntransport = "tcp"\nexit_after_idle = 600\n' + model_entries(tiny_gguf)
    )
    info = isolated_home.start()
    assert info["endpoint"].startswith("tcp://127.0.0.1:")
    assert stat.S_IMODE(isolated_home.paths.token_file.stat().st_mode) == 0o600
    context = zmq.asyncio.Context()
    sock = context.socket(zmq.DEALER)
    sock.connect(info["endpoint"])
    await sock.send(json.dumps({"v": 1, "id": "a", "type": "status"}).encode())
    reply = json.loads(await asyncio.wait_for(sock.recv(), 30))
    sock.close(0)
    context.term()
    assert reply["error"]["code"] == "auth"
    async with Client(isolated_home.paths) as client:  # reads the token file
        assert (await client.request("status"))["endpoint"] == info["endpoint"]


def test_idle_daemon_exits_when_configured(isolated_home, tiny_gguf):
    from daemon_helpers import model_entries
    from papercycle.daemon.process import pid_alive

    isolated_home.paths.config_file.write_text(
        "[daemon]\nexit_after_idle = 1\n" + model_entries(tiny_gguf)
    )
    pid = isolated_home.start()["pid"]
    wait_until(lambda: not pid_alive(pid), f"daemon {pid} exited", timeout=30)
    assert "no request for 1s: stopping" in isolated_home.log()
