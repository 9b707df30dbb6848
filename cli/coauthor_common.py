"""What the co-author commands share: one daemon request with streamed tokens, errors as one
line (exit 2)."""

from __future__ import annotations

import asyncio
import sys
from typing import Any

from papercycle.cli.errors import UserError


def request(kind: str, params: dict[str, Any], timeout: float | None, progress=None) -> dict:
    """The result of one daemon request; `progress` (a `token_bar`) counts its tokens. The
    tokens themselves are not shown: the command prints the finished text once (citations
    checked, simulated results marked), not the model's raw words and then that again."""
    from papercycle.daemon.client import Client, DaemonError

    async def run() -> dict[str, Any]:
        async with Client() as client:
            stream = client.stream(kind, params)

            async def drain() -> None:
                async for event in stream:
                    if progress is None:
                        continue
                    if event.get("event") == "token":
                        progress.update(1)
                    elif event.get("event") == "started":
                        progress.set_description(f"{kind} with {event.get('model')}")

            await asyncio.wait_for(drain(), timeout)
            assert stream.result is not None
            return stream.result

    try:
        result = asyncio.run(run())
    except DaemonError as error:
        raise UserError(error.message) from None
    except TimeoutError:
        raise UserError(f"no result within {timeout:.0f} s") from None
    finally:
        if progress is not None:
            progress.close()
    return result


def tokens_stream(quiet: bool):
    """A token count on stderr while the model writes (none when quiet or not a terminal)."""
    from papercycle.cli.progress import token_bar

    return None if quiet or not sys.stderr.isatty() else token_bar("waiting for the daemon")
