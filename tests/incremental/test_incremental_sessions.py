"""Open projects end to end with a real daemon and the tiny models: section-level
invalidation, watching (debounce, rename-replace saves, bursts), buffers, moves, anchors."""

from __future__ import annotations

import os
from pathlib import Path

from incremental_helpers import Watch, comments_of, ten_sections
from papercycle.daemon.client import Client
from waiting import eventually


async def _open(client: Client, root: Path, **params) -> dict:
    return await client.request(
        "project.open", {"path": str(root), "paper": "off", **params}, timeout=120
    )


async def _reviewed_all(watch: Watch) -> dict:
    status = await watch.idle()
    errors = [e for e in watch.events if e["event"] == "error"]
    assert status["sections"], (status["errors"], errors)
    assert all(s["reviewed"] for s in status["sections"]), (status["errors"], errors)
    return status


async def test_one_edit_one_review_same_content_none_move_none(home, project):
    main = project / "main.tex"
    async with Client() as client:
        opened = await _open(client, project)
        assert len(opened["sections"]) == 10
        async with Watch(client, opened["project"]) as watch:
            before = (await _reviewed_all(watch))["counters"]
            assert before["section_reviews"] + before["section_cached"] == 10

            # edit one section on disk: exactly one section review
            mark = watch.mark()
            main.write_text(ten_sections({3: "Section three now says something else."}))
            update = await watch.update(mark, "disk")
            assert [s["id"] for s in update["changed"]] == ["section:Topic 3#0"]
            assert update["added"] == [] and update["removed"] == []
            fresh = await watch.wait_for(
                lambda e: (
                    e["event"] == "comments"
                    and e["section"]["id"] == "section:Topic 3#0"
                    and not e["stale"]
                ),
                mark,
            )
            assert fresh["comments"] and fresh["revision"] == update["revision"]
            # the section's own scores come with its comments (the hover shows them)
            assert set(fresh["scores"]) == {"soundness", "clarity", "evidence"}
            after = (await _reviewed_all(watch))["counters"]
            assert after["section_reviews"] == before["section_reviews"] + 1
            assert after["section_cached"] == before["section_cached"]

            # the same content saved again: an update, no review
            mark = watch.mark()
            main.write_text(main.read_text())
            update = await watch.update(mark, "disk")
            assert update["changed"] == update["added"] == update["moved"] == []
            again = (await watch.idle())["counters"]
            assert again["section_reviews"] == after["section_reviews"]
            assert again["section_cached"] == after["section_cached"]

            # two sections swapped, text unchanged: moved, not reviewed
            mark = watch.mark()
            main.write_text(
                ten_sections(
                    {3: "Section three now says something else."},
                    order=[0, 1, 2, 3, 5, 4, 6, 7, 8, 9],
                )
            )
            update = await watch.update(mark, "disk")
            assert update["changed"] == update["added"] == update["removed"] == []
            assert update["moved"] in (["section:Topic 5#0"], ["section:Topic 4#0"])
            moved = (await watch.idle())["counters"]
            assert moved["section_reviews"] == after["section_reviews"]
            assert moved["section_cached"] == after["section_cached"]
            assert moved["updates"] == again["updates"] + 1


async def test_rename_replace_and_burst_are_one_update(home, tmp_path):
    root = tmp_path / "burst"
    (root / "parts").mkdir(parents=True)
    inputs = "\n".join(f"\\input{{parts/p{i}}}" for i in range(100))
    (root / "main.tex").write_text(
        "\\documentclass{article}\n\\begin{document}\n\\section{All}\n"
        + inputs
        + "\n\\end{document}\n"
    )
    for i in range(100):
        (root / "parts" / f"p{i}.tex").write_text(f"Fact {i}.\n")
    async with Client() as client:
        # a longer quiet period: 100 writes on a loaded machine must fall inside it
        opened = await _open(client, root, debounce=1.0)
        async with Watch(client, opened["project"]) as watch:
            await _reviewed_all(watch)
            first = await watch.status()

            # an editor's safe save: write a temporary file, rename it over the original
            mark = watch.mark()
            tmp = root / "parts" / "p7.tex.tmp"
            tmp.write_text("Fact seven.\n")
            os.replace(tmp, root / "parts" / "p7.tex")
            update = await watch.update(mark, "disk")
            assert update["files"] == [str(root / "parts" / "p7.tex")]
            assert [s["id"] for s in update["changed"]] == ["section:All#0"]

            # 100 files changed at once (a git checkout): one update
            mark = watch.mark()
            for i in range(100):
                (root / "parts" / f"p{i}.tex").write_text(f"Item {i}.\n")
            update = await watch.update(mark, "disk")
            assert len(update["files"]) == 100
            # a sentinel change after it: nothing else came in between
            await watch.idle()
            sentinel = watch.mark()
            (root / "refs.bib").write_text("@misc{k, title={T}}\n")
            await watch.update(sentinel, "disk")
            disk_updates = [
                e for e in watch.since(mark, "sections.changed") if e["origin"] == "disk"
            ]
            assert len(disk_updates) == 2  # the burst, the sentinel
            last = await watch.idle()
            assert last["counters"]["updates"] == first["counters"]["updates"] + 3


async def test_buffer_wins_over_disk_and_cursor_goes_first(home, project):
    main = project / "main.tex"
    async with Client() as client:
        opened = await _open(client, project)
        async with Watch(client, opened["project"]) as watch:
            status = await _reviewed_all(watch)
            keys = {s["id"]: s["key"] for s in status["sections"]}
            buffer = ten_sections(
                {2: "Buffer text for two.", 8: "Buffer text for eight, being typed."}
            )
            mark = watch.mark()
            result = await client.request(
                "project.buffer",
                {
                    "project": opened["project"],
                    "path": str(main),
                    "text": buffer,
                    "version": 4,
                    "cursor": {"path": str(main), "offset": buffer.index("eight, being")},
                },
            )
            assert sorted(result["changed"]) == ["section:Topic 2#0", "section:Topic 8#0"]
            # the section under the cursor is reviewed first
            first = await watch.wait_for(
                lambda e: (
                    e["event"] == "comments"
                    and not e["stale"]
                    and e["reviewed_revision"] >= result["revision"]
                ),
                mark,
            )
            assert first["section"]["id"] == "section:Topic 8#0"
            assert first["versions"] == {str(main): 4}
            await watch.idle()

            # the disk changes under the open buffer: ignored, the buffer wins
            mark = watch.mark()
            main.write_text(ten_sections({5: "Disk text for five."}))
            (project / "refs.bib").write_text("@misc{k, title={T}}\n")
            await watch.update(mark, "disk")
            now = {s["id"]: s["key"] for s in (await watch.idle())["sections"]}
            assert now["section:Topic 5#0"] == keys["section:Topic 5#0"]
            assert now["section:Topic 8#0"] != keys["section:Topic 8#0"]

            # the buffer closed: the disk wins again; 2 and 8 are back to cached reviews
            counters = (await watch.status())["counters"]
            mark = watch.mark()
            result = await client.request(
                "project.buffer", {"project": opened["project"], "path": str(main), "text": None}
            )
            assert sorted(result["changed"]) == [
                "section:Topic 2#0",
                "section:Topic 5#0",
                "section:Topic 8#0",
            ]
            done = (await watch.idle())["counters"]
            assert done["section_reviews"] == counters["section_reviews"] + 1  # only 5 is new
            assert done["section_cached"] == counters["section_cached"] + 2


async def test_comments_of_other_sections_follow_their_text(home, project):
    main = project / "main.tex"
    async with Client() as client:
        opened = await _open(client, project)
        async with Watch(client, opened["project"]) as watch:
            await _reviewed_all(watch)
            old_text = main.read_text()
            latest = {}
            for e in watch.events:
                if e["event"] == "comments":
                    latest[e["section"]["id"]] = e["comments"]
            ident = "section:Topic 6#0"
            old = latest[ident]
            assert old
            mark = watch.mark()
            long_insert = (
                "Section 1 studies topic number 1 in detail. A much longer paragraph is "
                "inserted here, above the other sections, so that their text moves down. "
                "We measure effect 1 on one small dataset only."
            )
            main.write_text(ten_sections({1: long_insert}))
            new_text = main.read_text()
            moved = await watch.wait_for(
                lambda e: e["event"] == "comments" and e["section"]["id"] == ident, mark
            )
            assert not moved["stale"] and moved["removed"] == [] and moved["added"] == []
            assert {c["id"] for c in moved["comments"]} == {c["id"] for c in old}
            shift = len(new_text) - len(old_text)
            for before, after in zip(old, moved["comments"], strict=True):
                a, b = before["anchor"]["range"], after["anchor"]["range"]
                assert b["start"] == a["start"] + shift and b["end"] == a["end"] + shift
                assert new_text[b["start"] : b["end"]] == old_text[a["start"] : a["end"]]
                assert b["lsp"]["start"]["line"] == a["lsp"]["start"]["line"]  # same line count
            # the update ends with "anchored": everything held is anchored in its revision
            anchored = await watch.wait_for(lambda e: e["event"] == "anchored", mark)
            assert anchored["revision"] == moved["revision"]
            assert watch.events.index(moved) < watch.events.index(anchored)
            # the edited section's old comments are marked stale until its review arrives
            stale = comments_of(watch.since(mark), "section:Topic 1#0")
            assert stale and stale[0]["stale"]
            await watch.idle()


async def test_whole_paper_review_only_when_changed_enough(home, project):
    main = project / "main.tex"
    async with Client() as client:
        opened = await _open(client, project, paper="auto")
        async with Watch(client, opened["project"]) as watch:
            status = await _reviewed_all(watch)
            assert status["paper"] is not None and status["counters"]["paper_reviews"] == 1
            paper = await watch.wait_for(lambda e: e["event"] == "paper")
            assert paper["result"]["kind"] == "paper"
            assert paper["result"]["generation"]["prompt_evaluated"] > 0

            # one word: a section review, no whole-paper review
            mark = watch.mark()
            main.write_text(
                ten_sections(
                    {
                        4: "Section 4 studies topic number 4 in depth. "
                        "We measure effect 4 on one small dataset only."
                    }
                )
            )
            await watch.update(mark, "disk")
            status = await watch.idle()
            assert status["counters"]["paper_reviews"] == 1
            assert watch.since(mark, "paper") == [] or all(
                e["reviewed_revision"] == paper["reviewed_revision"]
                for e in watch.since(mark, "paper")
            )

            # a section added: the whole paper again, in the background
            mark = watch.mark()
            text = main.read_text().replace(
                "\\end{document}", "\\section{Limits}\nWe only tried one dataset.\n\\end{document}"
            )
            main.write_text(text)
            update = await watch.update(mark, "disk")
            assert [s["id"] for s in update["added"]] == ["section:Limits#0"]
            fresh = await watch.wait_for(
                lambda e: e["event"] == "paper" and e["reviewed_revision"] == update["revision"],
                mark,
            )
            assert fresh["result"]["generation"]["prompt_reused"] > 0  # the KV prefix was kept
            status = await watch.idle()
            assert status["counters"]["paper_reviews"] == 2

            # on request: the same text again (answered from the cache)
            mark = watch.mark()
            await client.request("project.review", {"project": opened["project"]})
            await watch.wait_for(lambda e: e["event"] == "paper", mark)
            daemon = await client.request("status")
            assert daemon["prompt_tokens_evaluated"] > 0
            assert daemon["projects"][0]["counters"]["paper_reviews"] == 2


async def test_a_late_subscriber_gets_the_whole_paper_review_that_ended_before_it(home, project):
    """An answer from the cache ends within a second of opening, often before the editor
    subscribes: the subscription's current state carries it (the editor showed sections and
    never the paper review)."""
    async with Client() as client:
        opened = await _open(client, project, paper="auto")

        async def reviewed() -> dict | None:
            status = await client.request("project.status", {"project": opened["project"]})
            return status if status["idle"] and status["paper"] is not None else None

        status = await eventually(
            reviewed, "the whole paper reviewed, nobody subscribed", timeout=120, interval=0.1
        )
        async with Watch(client, opened["project"]) as watch:
            anchored = await watch.wait_for(lambda e: e["event"] == "anchored")
            replayed = watch.events[: watch.events.index(anchored)]
            papers = [e for e in replayed if e["event"] == "paper"]
            assert len(papers) == 1, [e["event"] for e in replayed]
            assert papers[0]["reviewed_revision"] == status["paper"]["reviewed_revision"]
            assert papers[0]["result"]["kind"] == "paper"
