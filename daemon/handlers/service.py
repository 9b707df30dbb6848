"""The daemon's own requests: hello, status, shutdown, the cache and the configured models."""

from __future__ import annotations

import asyncio
import os
from importlib.metadata import version
from typing import Any

from papercycle.daemon import protocol, requests, results
from papercycle.daemon.config import ModelConfig
from papercycle.daemon.handlers.context import Context
from papercycle.daemon.models import trained_for
from papercycle.daemon.models.registry import ModelError, check_model


async def hello(ctx: Context, _request: requests.Hello) -> results.Hello:
    return results.Hello(
        protocol=protocol.VERSION,
        version=version("papercycle"),
        pid=os.getpid(),
        endpoint=ctx.endpoint,
    )


async def status(ctx: Context, _request: requests.Status) -> results.Status:
    return ctx.status()


async def shutdown(_ctx: Context, _request: requests.Shutdown) -> results.Stopping:
    return results.Stopping()  # the server stops once this is answered


async def cache_stats(ctx: Context, _request: requests.CacheStats) -> results.CacheStats:
    return results.CacheStats(**await asyncio.to_thread(ctx.jobs.store.stats))


async def cache_clear(ctx: Context, _request: requests.CacheClear) -> results.CacheCleared:
    return results.CacheCleared(removed=await asyncio.to_thread(ctx.jobs.store.clear))


async def models_list(ctx: Context, _request: requests.ModelsList) -> results.ModelsList:
    return results.ModelsList(models=await asyncio.to_thread(_models, ctx))


def _models(ctx: Context) -> list[results.ConfiguredModel]:
    loaded = {m["name"] for m in ctx.jobs.registry.status()}
    return [
        results.ConfiguredModel(
            settings=model.to_toml(),
            loaded=model.name in loaded,
            ok=error is None,
            error=error,
            trained_for=_trained_for(model),
            warning=trained_for.mismatch(model),
        )
        for model in ctx.jobs.config().models.values()
        for error in [_model_problem(model)]
    ]


def _trained_for(model: ModelConfig) -> dict[str, Any] | None:
    """What a fine-tuned reviewer's GGUF says it was trained for (models/trained_for.py)."""
    trained = trained_for.trained_for(model)
    if trained is None:
        return None
    return {"format": trained.format, "modes": list(trained.modes)}


def _model_problem(model: ModelConfig) -> str | None:
    """Why a configured model cannot be used (its file, its endpoint), or None."""
    try:
        check_model(model)
    except ModelError as error:
        return str(error)
    return None
