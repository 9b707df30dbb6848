"""`papercycle cache stats|clear`: the daemon's result cache."""

from __future__ import annotations

import click
from papercycle.cli.errors import UserError


def _store():
    from papercycle.daemon.paths import Paths
    from papercycle.daemon.store import Store

    return Store(Paths.for_user().cache_db)


def _via_daemon(kind: str):
    """Ask the running daemon (it holds the database open); None when none runs."""
    from papercycle.daemon.client import DaemonError, call

    try:
        return call(kind, autostart=False, timeout=30)
    except DaemonError as error:
        if error.code == "no-daemon":
            return None
        raise UserError(error.message) from None


@click.group("cache")
def cache() -> None:
    """Inspect or clear cached review results.

    \b
    Examples:
      papercycle cache stats
      papercycle cache clear
    """


@cache.command("stats")
def stats() -> None:
    """Entries, size on disk and hits of the result cache.

    \b
    Examples:
      papercycle cache stats
    """
    info = _via_daemon("cache.stats")
    if info is None:
        store = _store()
        info = store.stats()
        store.close()
    click.echo(f"{info['path']}")
    click.echo(
        f"{info['entries']} results, {info['disk_bytes'] / 1024:.0f} KiB on disk, {info['hits']} hits"
    )
    for model, count in sorted(info["by_model"].items()):
        click.echo(f"  {model}: {count}")


@cache.command("clear")
def clear() -> None:
    """Remove every cached result.

    \b
    Examples:
      papercycle cache clear
    """
    info = _via_daemon("cache.clear")
    if info is None:
        store = _store()
        info = {"removed": store.clear()}
        store.close()
    click.echo(f"removed {info['removed']} cached results")
