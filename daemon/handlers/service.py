"""The daemon's own requests: hello, status, shutdown, the cache and the configured models."""

from __future__ import annotations

import asyncio
import os
from importlib.metadata import version
from typing import Any

from papercycle.daemon import protocol, requests
from papercycle.daemon.handlers.context import Context
from papercycle.daemon.models import trained_for
from papercycle.daemon.models.registry import ModelError, check_model


async def hello(ctx: Context, _request: requests.Hello) -> dict[str, Any]:
    return {
        "protocol": protocol.VERSION,
        "version": version("papercycle"),
        "pid": os.getpid(),
        "endpoint": ctx.endpoint,
    }


async def status(ctx: Context, _request: requests.Status) -> dict[str, Any]:
    return ctx.status()


async def shutdown(_ctx: Context, _request: requests.Shutdown) -> dict[str, Any]:
    return {"stopping": True}  # the server stops once this is answered


async def cache_stats(ctx: Context, _request: requests.CacheStats) -> dict[str, Any]:
    return await asyncio.to_thread(ctx.jobs.store.stats)


async def cache_clear(ctx: Context, _request: requests.CacheClear) -> dict[str, Any]:
    return {"removed": await asyncio.to_thread(ctx.jobs.store.clear)}


async def models_list(ctx: Context, _request: requests.ModelsList) -> dict[str, Any]:
    return {"models": await asyncio.to_thread(_models, ctx)}


def _models(ctx: Context) -> list[dict[str, Any]]:
    out = []
    loaded = {m["name"]: m for m in ctx.jobs.registry.status()}
    for model in ctx.jobs.config().models.values():
        entry: dict[str, Any] = {**model.to_toml(), "loaded": model.name in loaded}
        trained = trained_for.trained_for(model)
        if trained is not None:
            entry["trained_for"] = {"format": trained.format, "modes": list(trained.modes)}
            entry["warning"] = trained_for.mismatch(model)
        try:
            check_model(model)
            entry["ok"] = True
        except ModelError as error:
            entry["ok"], entry["error"] = False, str(error)
        out.append(entry)
    return out
