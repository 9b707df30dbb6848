"""What the co-author commands share: one daemon request with streamed tokens, errors as one
line (exit 2)."""

from __future__ import annotations

import asyncio
import sys
from typing import Any

from papercycle.cli.errors import UserError


def request(kind: str, params: dict[str, Any], timeout: float | None, stream_to=None) -> dict:
    """The result of one daemon request; `token` events are written to `stream_to` (e.g.
    sys.stderr) as they arrive."""
    from papercycle.daemon.client import Client, DaemonError

    async def run() -> dict[str, Any]:
        async with Client() as client:
            stream = client.stream(kind, params)

            async def drain() -> None:
                async for event in stream:
                    if stream_to is not None and event.get("event") == "token":
                        stream_to.write(str(event.get("text", "")))
                        stream_to.flush()

            await asyncio.wait_for(drain(), timeout)
            assert stream.result is not None
            return stream.result

    try:
        result = asyncio.run(run())
    except DaemonError as error:
        raise UserError(error.message) from None
    except TimeoutError:
        raise UserError(f"no result within {timeout:.0f} s") from None
    if stream_to is not None:
        stream_to.write("\n")
    return result


def tokens_stream(quiet: bool):
    return None if quiet or not sys.stderr.isatty() else sys.stderr
