"""An OpenAI-compatible HTTP endpoint (llama-server, vLLM): for a large reviewer served from a
GPU box. The daemon keeps everything else (queue, cache, anchoring) local.

Chat messages go to `POST {url}/chat/completions` with `stream: true`; the server applies the
model's chat template. A grammar is passed as llama-server's `grammar` field. Cancelling closes
the stream, which llama-server and vLLM take as "stop generating".
"""

from __future__ import annotations

import contextlib
import json
import time
import urllib.error
import urllib.request
from typing import Any

from papercycle.daemon.formats.chat import Message
from papercycle.daemon.models.backend import Cancellation, Generation, GenerationError, TokenSink

_SAMPLING_ARGS = ("temperature", "top_p", "top_k", "min_p", "repeat_penalty", "seed")


class HttpBackend:
    memory_bytes = 0  # the weights live on the server

    def __init__(self, url: str, api_model: str, n_ctx: int, timeout: float = 600.0) -> None:
        self.url = url.rstrip("/")
        self.api_model = api_model
        self.n_ctx = n_ctx
        self.timeout = timeout

    def count_tokens(self, prompt: str) -> int | None:
        return None  # the server checks its own context and answers with an error

    def generate(
        self,
        prompt: str,
        messages: list[Message],
        settings: dict[str, Any],
        grammar: str | None,
        on_token: TokenSink,
        cancel: Cancellation,
        on_event: Any = None,
    ) -> Generation:
        started = time.monotonic()
        body: dict[str, Any] = {
            "messages": messages,
            "stream": True,
            "max_tokens": int(settings.get("max_tokens", 512)),
            **{k: settings[k] for k in _SAMPLING_ARGS if k in settings},
        }
        if self.api_model:
            body["model"] = self.api_model
        if grammar:
            body["grammar"] = grammar
        request = urllib.request.Request(
            f"{self.url}/chat/completions",
            data=json.dumps(body).encode("utf-8"),
            headers={"Content-Type": "application/json", "Accept": "text/event-stream"},
        )
        try:
            response = urllib.request.urlopen(request, timeout=self.timeout)
        except urllib.error.HTTPError as error:
            detail = error.read(2000).decode("utf-8", "replace")
            raise GenerationError(f"{self.url}: HTTP {error.code}: {detail}") from None
        except (urllib.error.URLError, OSError) as error:
            reason = getattr(error, "reason", error)
            raise GenerationError(f"{self.url}: cannot connect ({reason})") from None
        pieces: list[str] = []
        finish = "stop"
        prompt_tokens = None
        try:
            for raw in response:
                line = raw.decode("utf-8", "replace").strip()
                if not line.startswith("data:"):
                    continue
                payload = line[5:].strip()
                if payload == "[DONE]":
                    break
                chunk = json.loads(payload)
                usage = chunk.get("usage") or {}
                prompt_tokens = usage.get("prompt_tokens", prompt_tokens)
                for choice in chunk.get("choices", []):
                    text = (choice.get("delta") or {}).get("content") or ""
                    if text:
                        pieces.append(text)
                        on_token(text)
                        if cancel.step():
                            break
                    if choice.get("finish_reason"):
                        finish = choice["finish_reason"]
                if cancel.cancelled:
                    break
        except (OSError, json.JSONDecodeError) as error:
            raise GenerationError(f"{self.url}: broken stream ({error})") from None
        finally:
            with contextlib.suppress(Exception):
                response.close()
        if cancel.cancelled:
            finish = "cancelled"
        return Generation(
            "".join(pieces), prompt_tokens, cancel.tokens, finish, time.monotonic() - started
        )

    def close(self) -> None:
        pass
