"""The session's life: `initialize` (settings, the WebSocket session's folders),
`initialized` (the daemon link starts connecting), the configuration pulled and pushed, and
`shutdown` (every job stopped, every open project closed in the daemon)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from lsprotocol import types
from papercycle.lsp import hover
from papercycle.lsp.daemon_link import DaemonLink
from papercycle.lsp.documents import uri_path
from papercycle.lsp.publish import publish
from papercycle.lsp.session import PapercycleServer
from papercycle.lsp.settings import SECTION

log = logging.getLogger("papercycle.lsp")


def register(ls: PapercycleServer) -> None:
    @ls.feature(types.INITIALIZE)
    def initialize(ls: PapercycleServer, params: types.InitializeParams) -> None:
        merge_settings(ls, params.initialization_options or {})
        ls.client_kind = hover.client_kind(params.client_info.name if params.client_info else "")
        if ls.confined:
            declared = [folder.uri for folder in params.workspace_folders or []]
            declared += [params.root_uri] if params.root_uri else []
            ls.allowed_folders = [uri_path(uri) for uri in declared if uri.startswith("file:")]

    @ls.feature(types.INITIALIZED)
    def initialized(ls: PapercycleServer, params: types.InitializedParams) -> None:
        ls.link = connect(ls)
        ls.spawn(pull_configuration(ls))

    @ls.feature(types.SHUTDOWN)
    async def shutdown(ls: PapercycleServer, params: None) -> None:
        for task in list(ls.jobs.values()):
            task.cancel()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(ls.projects.close_all(), 10)
        if ls.link is not None:
            await ls.link.close()
        ls.outlines.close()

    @ls.feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)
    def did_change_configuration(
        ls: PapercycleServer, params: types.DidChangeConfigurationParams
    ) -> None:
        if isinstance(params.settings, dict) and params.settings:
            ls.settings = ls.settings.merged(params.settings)
        ls.spawn(pull_configuration(ls))


def connect(ls: PapercycleServer) -> DaemonLink:
    """The daemon link, connecting in the background; every new connection opens the
    projects again."""
    link = DaemonLink(
        autostart=ls.settings.auto_start_daemon,
        on_down=lambda text: ls.message(text, types.MessageType.Warning),
        on_up=lambda hello: ls.message(
            f"papercycle: reconnected to the daemon (pid {hello.get('pid')})"
        ),
        on_connected=lambda client: ls.projects.reopen_all(),
    )
    link.start()
    return link


def merge_settings(ls: PapercycleServer, values: dict[str, Any]) -> None:
    """Settings from the client; unknown keys and bad values are logged and ignored."""
    problems: list[str] = []
    ls.settings = ls.settings.merged(values, problems)
    for problem in problems:
        log.warning("settings: %s", problem)


async def pull_configuration(ls: PapercycleServer) -> None:
    """`workspace/configuration` (section `papercycle`), then every open document published
    again (severities and filters may have changed)."""
    caps = ls.client_capabilities.workspace
    if not (caps and caps.configuration):
        return
    try:
        answer = await asyncio.wait_for(
            ls.workspace_configuration_async(
                types.ConfigurationParams([types.ConfigurationItem(section=SECTION)])
            ),
            10.0,
        )
    except Exception as error:
        log.info("workspace/configuration failed: %s", error)
        return
    if answer and isinstance(answer[0], dict):
        merge_settings(ls, answer[0])
    for doc in list(ls.docs.by_uri.values()):
        publish(ls, doc.path)
