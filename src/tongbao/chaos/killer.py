"""Kill rounds: at each planned moment one API or worker process gets SIGKILL (no clean-up, as a
crash or the OOM killer would leave it), stays dead a moment, and is started again."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass

from tongbao.harness.deployment import Deployment

from .plan import Kill


@dataclass(frozen=True)
class KillRecord:
    round: int
    process: str
    pid: int | None
    at: float  # time.monotonic() of the kill
    restarted_after_s: float


class Killer:
    def __init__(self, deployment: Deployment, kills: tuple[Kill, ...]) -> None:
        self.deployment = deployment
        self.kills = kills
        self.records: list[KillRecord] = []

    async def run(self, on_round: Callable[[int], None] = lambda _: None) -> list[KillRecord]:
        begin = time.monotonic()
        for number, kill in enumerate(self.kills, start=1):
            await asyncio.sleep(max(0.0, begin + kill.at_s - time.monotonic()))
            children = self.deployment.apis if kill.role == "api" else self.deployment.workers
            child = children[kill.index]
            pid = child.pid
            at = time.monotonic()
            await asyncio.to_thread(child.kill)
            await asyncio.sleep(kill.down_s)
            child.start()
            if kill.role == "api":
                await asyncio.to_thread(child.wait_ready)
            self.records.append(KillRecord(number, child.name, pid, at, time.monotonic() - at))
            on_round(number)
        return self.records
