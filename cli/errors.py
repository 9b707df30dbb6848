"""One way for commands to report a user error: one line on stderr, a non-zero exit, no traceback."""

from __future__ import annotations

import click


class UserError(click.ClickException):
    """An error caused by the user's input (a path, a file, an option), shown as one line."""

    exit_code = 2

    def show(self, file=None) -> None:
        click.echo(f"papercycle: error: {self.format_message()}", err=True)
