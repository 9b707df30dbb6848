"""`papercycle web [PROJECT]`: the browser editor on 127.0.0.1 (see cli/webapp.py)."""

from __future__ import annotations

import contextlib
import json
import sys
from pathlib import Path

import click


@click.command("web")
@click.argument(
    "project", required=False, default=".", type=click.Path(exists=True, file_okay=False)
)
@click.option("--port", type=int, default=0, show_default=True, help="HTTP port (0: any).")
@click.option("--lsp-port", type=int, default=0, help="Language server WebSocket port (0: any).")
@click.option("--no-browser", is_flag=True, help="Print the URL only; do not open a browser.")
def web(project: str, port: int, lsp_port: int, no_browser: bool) -> None:
    """Open a LaTeX project folder in papercycle's browser editor (local only).

    \b
    Examples:
      papercycle web paper/
      papercycle web paper/ --port 8080 --no-browser
    """
    from papercycle.cli.webapp import WebApp, assets_dir

    if not (assets_dir() / "index.html").is_file():
        click.echo(
            f"papercycle web: the page is not built ({assets_dir()}): in a checkout run "
            "npm --prefix editors/web ci && npm --prefix editors/web run build; an installed "
            "wheel carries it when it was built with `make wheel`",
            err=True,
        )
        sys.exit(2)
    app = WebApp(Path(project), port, lsp_port)
    app.start()
    sys.stdout.write(
        json.dumps({"url": app.url, "port": app.port, "project": str(app.root)}) + "\n"
    )
    sys.stdout.flush()
    if not no_browser:
        import webbrowser

        webbrowser.open(app.url)
    with contextlib.suppress(KeyboardInterrupt):
        app.serve_forever()
