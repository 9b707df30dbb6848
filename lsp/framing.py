"""The stdio framing (`Content-Length: N` headers, then N bytes of JSON), read so that a bad
frame never wedges the connection: pygls' own loop ignores a header line it does not know,
so a Content-Length shorter than its body leaves the rest glued to the next header and every
later message is lost without a word.

Here a line that is not a header is logged and scanned for the next `Content-Length:` (the
usual case: the rest of the short body, then the next header); a body cut short by the end of
input, or too much garbage, ends the process with a non-zero status so the editor restarts
the server."""

from __future__ import annotations

import asyncio
import json
import logging
import re
import sys
from threading import Event

from pygls.io_ import StdinAsyncReader, StdoutWriter

log = logging.getLogger("papercycle.lsp")

HEADER = re.compile(rb"^([A-Za-z-]+): *(.*?)\r?\n$")
MARK = b"Content-Length:"
MAX_BODY = 256 * 2**20
MAX_GARBAGE = 2**20  # bytes skipped while looking for a header before giving up


class FramingLost(Exception):
    """The input cannot be read as LSP messages any more; the message says why."""


async def read_messages(reader, protocol, stop: Event | None = None) -> None:
    """Hands each message to `protocol` until the input ends; FramingLost when it is broken."""
    garbage = 0
    length: int | None = None
    while stop is None or not stop.is_set():
        line = await reader.readline()
        if not line:
            if length is not None or garbage:
                raise FramingLost("the input ended inside a message header")
            return
        if line.strip() == b"" and length is not None:
            body = await reader.readexactly(length) if length else b""
            if len(body) < length:
                raise FramingLost(f"the input ended {len(body)} bytes into a {length}-byte body")
            length, garbage = None, 0
            _handle(protocol, body)
            continue
        match = HEADER.match(line)
        if match is None or match.group(1).lower() not in (b"content-length", b"content-type"):
            at = line.find(MARK)
            garbage += len(line) if at < 0 else at
            log.warning("lsp framing: %d bytes that are not a header skipped", garbage)
            if garbage > MAX_GARBAGE:
                raise FramingLost(f"{garbage} bytes without a message header")
            if at < 0:
                continue
            match = HEADER.match(line[at:])  # resynchronised on the next header
            if match is None:
                continue
        if match.group(1).lower() == b"content-length":
            value = match.group(2).strip()
            if not value.isdigit() or int(value) > MAX_BODY:
                raise FramingLost(f"Content-Length {value[:40]!r} is not a usable size")
            length = int(value)


def _handle(protocol, body: bytes) -> None:
    try:
        message = json.loads(body, object_hook=protocol.structure_message)
    except Exception as error:  # pygls' structure_message raises its own errors, too
        # no id can be read from it: the request (if it was one) goes unanswered
        log.warning("lsp framing: a %d-byte body is not a JSON-RPC message (%s)", len(body), error)
        return
    try:
        protocol.handle_message(message)
    except Exception:
        log.exception("lsp: a message could not be handled")


def start_stdio(server) -> None:
    """pygls' start_io with this module's reader; exits 1 when the framing is lost."""
    server._stop_event = Event()
    reader = StdinAsyncReader(sys.stdin.buffer, server.thread_pool)
    server.protocol.set_writer(StdoutWriter(sys.stdout.buffer))
    status = 0
    try:
        asyncio.run(read_messages(reader, server.protocol, server._stop_event))
    except FramingLost as error:
        log.error("lsp: %s; exiting so that the editor restarts the server", error)
        print(f"papercycle lsp: {error}; exiting", file=sys.stderr)
        status = 1
    except BrokenPipeError:
        log.error("lsp: the editor closed the connection")
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        server.shutdown()
    if status:
        sys.exit(status)
