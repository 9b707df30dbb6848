"""`papercycle lsp`: the language server, on stdio (editors) or WebSocket (browser editors)."""

from __future__ import annotations

import logging
from pathlib import Path

import click


@click.command("lsp", context_settings={"ignore_unknown_options": False})
@click.option("--stdio", is_flag=True, help="Serve on stdio (the default; VS Code appends it).")
@click.option("--clientProcessId", "client_process_id", hidden=True, help="Ignored (LSP clients).")
@click.option("--ws", is_flag=True, help="Serve browser editors over WebSocket on 127.0.0.1.")
@click.option("--port", type=int, default=0, show_default=True, help="WebSocket port (0: any).")
@click.option(
    "--allow-origin",
    "allow_origins",
    multiple=True,
    help="A browser Origin allowed to connect (besides http://localhost and 127.0.0.1).",
)
@click.option(
    "--token-file", type=click.Path(dir_okay=False), help="Write the ws:// URL here (0600)."
)
@click.option("--log-file", type=click.Path(dir_okay=False), help="Log here instead of stderr.")
@click.option("-v", "--verbose", is_flag=True, help="Log debug messages.")
def lsp(stdio, client_process_id, ws, port, allow_origins, token_file, log_file, verbose) -> None:
    """Run the papercycle language server (one per editor window).

    \b
    Examples:
      papercycle lsp --stdio
      papercycle lsp --ws --port 8765
    """
    from papercycle.private import private_file

    handler = (
        logging.FileHandler(private_file(Path(log_file))) if log_file else logging.StreamHandler()
    )
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger("papercycle")
    root.addHandler(handler)
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    from papercycle.lsp import transport

    if ws:
        transport.start_ws(port, allow_origins, token_file)
    else:
        transport.start_stdio()
