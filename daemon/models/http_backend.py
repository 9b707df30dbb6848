"""An OpenAI-compatible HTTP endpoint (llama-server, vLLM): for a large reviewer served from a
GPU box. The daemon keeps everything else (queue, cache, anchoring) local.

Chat messages go to `POST {url}/chat/completions` with `stream: true`; the server applies the
model's chat template. A grammar is passed as llama-server's `grammar` field. Cancelling closes
the stream, which llama-server and vLLM take as "stop generating".

- The client is httpx2 (what huggingface_hub already installs: httpx's API with a
  server-sent-events reader), one connection pool per endpoint.
- Up to `max_parallel` requests are in flight at once (the scheduler starts that many jobs on an
  endpoint; llama-server's slots and vLLM's batching serve them together); a semaphore here
  holds any more.
- A server started with `--api-key` gets `Authorization: Bearer <key>`: `api_key`, or the
  environment variable named by `api_key_env` (read at load, so the key stays out of files).
"""

from __future__ import annotations

import json
import os
import threading
import time
from typing import Any

import httpx2
from papercycle.daemon.models.backend import Cancellation, Generation, GenerationError, TokenSink
from papercycle.formats.chat import Message

_SAMPLING_ARGS = ("temperature", "top_p", "top_k", "min_p", "repeat_penalty", "seed")


def resolve_api_key(name: str, api_key: str, api_key_env: str) -> str:
    """The key to send ("" for none); a named variable that is unset is an error that says so."""
    if api_key_env:
        key = os.environ.get(api_key_env, "")
        if not key:
            raise GenerationError(
                f"model {name!r}: api_key_env names {api_key_env}, which is not set in the "
                "daemon's environment"
            )
        return key
    return api_key


class HttpBackend:
    memory_bytes = 0  # the weights live on the server

    def __init__(
        self,
        url: str,
        api_model: str,
        n_ctx: int,
        timeout: float = 600.0,
        api_key: str = "",
        max_parallel: int = 1,
    ) -> None:
        self.url = url.rstrip("/")
        self.api_model = api_model
        self.n_ctx = n_ctx
        self.max_parallel = max(1, max_parallel)
        self._slots = threading.BoundedSemaphore(self.max_parallel)
        self.in_flight = 0  # requests sent and not yet answered in full
        self.most_in_flight = 0
        self._count = threading.Lock()
        headers = {"Accept": "text/event-stream"}
        if api_key:
            headers["Authorization"] = f"Bearer {api_key}"
        self.client = httpx2.Client(
            headers=headers,
            timeout=httpx2.Timeout(timeout, connect=10.0),
            limits=httpx2.Limits(max_connections=self.max_parallel),
        )

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
        with self._slots:
            with self._count:
                self.in_flight += 1
                self.most_in_flight = max(self.most_in_flight, self.in_flight)
            try:
                return self._stream(body, on_token, cancel)
            finally:
                with self._count:
                    self.in_flight -= 1

    def _stream(
        self, body: dict[str, Any], on_token: TokenSink, cancel: Cancellation
    ) -> Generation:
        started = time.monotonic()
        pieces: list[str] = []
        finish = "stop"
        prompt_tokens = None
        try:
            with self.client.stream("POST", f"{self.url}/chat/completions", json=body) as response:
                if response.status_code >= 400:
                    raise GenerationError(self._refusal(response))
                for event in httpx2.EventSource(response):
                    if event.data == "[DONE]":
                        break
                    chunk = json.loads(event.data)
                    if not isinstance(chunk, dict):
                        raise ValueError("an event that is not a JSON object")
                    usage = chunk.get("usage") or {}
                    prompt_tokens = usage.get("prompt_tokens", prompt_tokens)
                    for choice in chunk.get("choices") or []:
                        text = (choice.get("delta") or {}).get("content") or ""
                        if text:
                            pieces.append(text)
                            on_token(text)
                            if cancel.step():
                                break
                        if choice.get("finish_reason"):
                            finish = choice["finish_reason"]
                    if cancel.cancelled:
                        break  # leaving the block closes the stream: the server stops
        except httpx2.ConnectError as error:
            raise GenerationError(f"{self.url}: cannot connect ({error})") from None
        except httpx2.TimeoutException:
            raise GenerationError(f"{self.url}: no answer in time") from None
        except (httpx2.HTTPError, ValueError, AttributeError) as error:
            # ValueError: json's decode error, an event that is not an object; AttributeError:
            # a choice or delta that is not an object
            raise GenerationError(f"{self.url}: broken stream ({error})") from None
        if cancel.cancelled:
            finish = "cancelled"
        return Generation(
            "".join(pieces), prompt_tokens, cancel.tokens, finish, time.monotonic() - started
        )

    def _refusal(self, response: httpx2.Response) -> str:
        detail = " ".join(response.read()[:2000].decode("utf-8", "replace").split())
        if response.status_code in (401, 403):
            return (
                f"{self.url}: HTTP {response.status_code}: the server refused the API key "
                "(set the key it was started with: api_key_env or api_key in the model's entry)"
            )
        return f"{self.url}: HTTP {response.status_code}: {detail}"

    def close(self) -> None:
        self.client.close()
