"""`papercycle daemon start|stop|status|run`: the local service that holds the models."""

from __future__ import annotations

import json
import sys

import click
from papercycle.cli.errors import UserError


@click.group("daemon")
def daemon() -> None:
    """Start, stop and inspect the papercycle daemon (one per user).

    \b
    Examples:
      papercycle daemon start
      papercycle daemon status --json
      papercycle daemon stop
    """


@daemon.command("run")
def run() -> None:
    """Run the daemon in the foreground, logging to stderr (Ctrl-C or SIGTERM stops it).

    \b
    Examples:
      papercycle daemon run
    """
    from papercycle.daemon.process import AlreadyRunning, configure_logging, run_foreground

    configure_logging(None)
    try:
        sys.exit(run_foreground())
    except AlreadyRunning as error:
        raise UserError(str(error)) from None


@daemon.command("start")
def start() -> None:
    """Start the daemon in the background (logs go to the state directory).

    \b
    Examples:
      papercycle daemon start
    """
    from papercycle.daemon.paths import Paths
    from papercycle.daemon.process import StartFailed, read_info, start_background

    paths = Paths.for_user()
    running = read_info(paths)
    if running is not None:
        click.echo(f"already running (pid {running['pid']}, {running['endpoint']})")
        return
    try:
        info = start_background(paths)
    except StartFailed as error:
        raise UserError(str(error)) from None
    click.echo(f"started (pid {info['pid']}, {info['endpoint']}, log {paths.log_file})")


@daemon.command("stop")
def stop() -> None:
    """Stop the daemon: running jobs are cancelled, the cache is flushed.

    \b
    Examples:
      papercycle daemon stop
    """
    from papercycle.daemon.process import StartFailed
    from papercycle.daemon.process import stop as stop_daemon

    try:
        pid = stop_daemon()
    except StartFailed as error:
        raise UserError(str(error)) from None
    click.echo("no daemon was running" if pid is None else f"stopped (pid {pid})")


@daemon.command("status")
@click.option("--json", "as_json", is_flag=True, help="Print the status as JSON.")
def status(as_json: bool) -> None:
    """Version, uptime, socket, loaded models, queue, running jobs, cache size.

    \b
    Examples:
      papercycle daemon status
      papercycle daemon status --json
    """
    from papercycle.daemon.client import DaemonError, call

    try:
        info = call("status", autostart=False, timeout=10)
    except DaemonError as error:
        if error.code == "no-daemon":
            click.echo("not running")
            sys.exit(3)
        raise UserError(error.message) from None
    if as_json:
        click.echo(json.dumps(info, indent=2))
        return
    click.echo(
        f"papercycle daemon {info['version']} (protocol {info['protocol']}), pid {info['pid']}"
    )
    click.echo(f"uptime   {info['uptime']:.0f} s")
    click.echo(f"socket   {info['endpoint']}")
    click.echo(f"config   {info['config']} ({len(info['configured'])} models configured)")
    if info["models"]:
        for m in info["models"]:
            state = (
                "busy"
                if m["busy"]
                else f"idle {m['idle_seconds']:.0f} s, unloads in {m['unload_in']:.0f} s"
            )
            click.echo(
                f"loaded   {m['name']} ({m['role']}, {m['backend']}): "
                f"{m['memory_bytes'] / 2**20:.0f} MiB, context {m['n_ctx']}, {state}"
            )
    else:
        click.echo("loaded   no model")
    click.echo(f"budget   {info['memory_budget_mb']} MiB")
    queue = info["queue"]
    running = queue["running"]
    click.echo(
        "running  "
        + (
            f"job {running['job']}: {running['kind']} review with {running['model']} "
            f"({running['tokens']} tokens so far, {running['clients']} client(s))"
            if running
            else "nothing"
        )
    )
    click.echo(
        f"queue    {len(queue['queued'])} waiting (limit {queue['max_queue']}), {queue['completed']} done"
    )
    cache = info["cache"]
    click.echo(
        f"cache    {cache['entries']} results, {cache['disk_bytes'] / 1024:.0f} KiB, "
        f"{cache['hits']} hits ({cache['path']})"
    )
