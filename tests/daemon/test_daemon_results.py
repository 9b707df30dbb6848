"""Every answer's typed result (daemon/results.py) against the contract: PROTOCOL.md's tables
and result blocks name exactly the result type's fields, and a real daemon over a real socket
answers with those keys and no others."""

from __future__ import annotations

import re
from dataclasses import fields
from pathlib import Path

import pytest
from papercycle.daemon import protocol, results
from papercycle.daemon.client import Client

PROTOCOL = Path(results.__file__).with_name("PROTOCOL.md").read_text()
TIMEOUT = 120


def _result_cells() -> dict[str, str]:
    """Request type -> its row's `result data` cell, from the two request tables."""
    cells = {}
    for line in PROTOCOL.splitlines():
        row = [cell.strip() for cell in line.strip().strip("|").split(" | ")]
        kind = row[0].strip("`")
        if len(row) == 3 and kind in protocol.REQUEST_TYPES:  # type | params | result data
            cells[kind] = row[2]
    return cells


def _top_level_names(cell: str) -> set[str]:
    """The keys a cell names at its top level: backticked names outside parentheses (which
    describe a key's insides), in its first sentence (the rest is prose)."""
    spans: list[str] = []
    text = re.sub(r"`([^`]*)`", lambda m: spans.append(m.group(1)) or f"\0{len(spans) - 1}\0", cell)
    while re.search(r"\([^()]*\)", text):
        text = re.sub(r"\([^()]*\)", "", text)
    first = text.split(". ")[0]
    names = set()
    for index in re.findall(r"\0(\d+)\0", first):
        name = re.match(r"[a-z_]+", spans[int(index)])
        if name:
            names.add(name.group(0))
    return names


def _block_keys(heading: str) -> set[str]:
    """The top-level keys of the JSON sketch under `heading` (### Review result, ...)."""
    after = PROTOCOL[PROTOCOL.index(heading) :]
    block = after[
        after.index("```json") + len("```json") : after.index("```", after.index("```json") + 7)
    ]
    keys, depth, index = set(), 0, 0
    while index < len(block):
        char = block[index]
        if char == '"':
            end = block.index('"', index + 1)
            if depth == 1 and re.match(r"\s*:", block[end + 1 :]):
                keys.add(block[index + 1 : end])
            index = end + 1
            continue
        depth += char in "{["
        depth -= char in "}]"
        index += 1
    return keys


def documented_keys(kind: str) -> set[str]:
    cell = _result_cells()[kind]
    names = _top_level_names(cell)
    if "a review result" in cell:
        names |= _block_keys("### Review result")
    if "a draft result" in cell:
        names |= _block_keys("### Draft result")
    if "the project's status" in cell:
        names |= documented_keys("project.status")
    return names


def test_every_request_type_has_a_documented_result_type():
    assert set(results.RESULTS) == set(protocol.REQUEST_TYPES)
    assert set(_result_cells()) == set(protocol.REQUEST_TYPES)


@pytest.mark.parametrize("kind", protocol.REQUEST_TYPES)
def test_result_fields_are_the_keys_protocol_md_documents(kind):
    documented = documented_keys(kind)
    assert documented, f"no result keys read from PROTOCOL.md's {kind} row"
    assert results.keys(results.RESULTS[kind]) == documented


def _always(cls: type) -> set[str]:
    """The keys every answer of `cls` carries (not the ones left out when None)."""
    return {
        item.name
        for item in fields(cls)
        if not item.metadata.get("spread")
        and not (item.metadata.get("absent_when_none") and item.default is None)
    }


def assert_wire_form(answer: dict, cls: type) -> None:
    assert _always(cls) <= set(answer) <= results.keys(cls), (cls.__name__, sorted(answer))


@pytest.fixture(scope="module")
def home(shared_home):
    return shared_home


async def test_a_real_daemon_answers_with_the_result_types_keys(home, paper):
    async with Client(home.paths) as client:
        assert_wire_form(await client.request("hello"), results.Hello)
        status = await client.request("status")
        assert_wire_form(status, results.Status)
        assert_wire_form(status["cache"], results.CacheStats)
        assert_wire_form(await client.request("cache.stats"), results.CacheStats)
        listed = await client.request("models.list")
        assert_wire_form(listed, results.ModelsList)
        assert listed["models"]
        for model in listed["models"]:
            # the model's own settings are spread into its entry; `error` only when not ok
            assert {"name", "loaded", "ok"} <= set(model)
            assert ("error" in model) is (not model["ok"])

        section = await client.request(
            "review.section",
            {"path": str(paper), "section": "Method", "model": "tiny-section"},
            timeout=TIMEOUT,
        )
        assert_wire_form(section, results.ReviewResult)
        assert section["kind"] == "section" and "mode" not in section and section["section"]

        opened = await client.request("project.open", {"path": str(paper), "paper": "off"})
        assert_wire_form(opened, results.ProjectStatus)
        project = opened["project"]
        moved = await client.request(
            "project.cursor", {"project": project, "cursor": {"path": str(paper), "offset": 0}}
        )
        assert_wire_form(moved, results.CursorMoved)
        buffer = await client.request(
            "project.buffer", {"project": project, "path": str(paper), "text": paper.read_text()}
        )
        assert_wire_form(buffer, results.BufferApplied)
        assert_wire_form(
            await client.request("project.status", {"project": project}), results.ProjectStatus
        )
        closed = await client.request("project.close", {"project": project, "force": True})
        assert_wire_form(closed, results.Closed)
        assert closed["closed"] is True


def test_default_of_a_field_left_out_when_none_is_none():
    """`_always` reads absent-when-none fields by their None default: keep them so."""
    for cls in set(results.RESULTS.values()):
        for item in fields(cls):
            if item.metadata.get("absent_when_none"):
                assert item.default is None, (cls.__name__, item.name)
