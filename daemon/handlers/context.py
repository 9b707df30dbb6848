"""What a request handler is given: its request's channel (events, cancel), the generation
road (jobs.py), the open projects (sessions/) and what the daemon says about itself."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from papercycle.daemon.jobs import Channel, Jobs
from papercycle.daemon.results import Status
from papercycle.daemon.sessions import Sessions


@dataclass
class Context:
    channel: Channel
    jobs: Jobs
    projects: Sessions
    endpoint: str
    status: Callable[[], Status]  # the daemon's `status` answer

    async def progress(self, data: dict[str, Any]) -> None:
        await self.channel.event("progress", data)

    def generate_with(self, project: Any, priority: int):
        """`generate(request, finish)` for an engine module that runs several generations of
        one request (Best Mode, the AI Scientist's rounds)."""

        async def generate(request, finish) -> dict[str, Any]:
            return await self.jobs.generate(self.channel, project, request, priority, finish)

        return generate
