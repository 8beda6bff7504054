"""What every simulator is besides its channel: a clock, a fault plan, the sender of its
notifications, and a way to close that also ends the requests a fault is stalling."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Generic, TypeVar

from tongbao.clock import Clock, SystemClock

from ..faults import FaultInjector
from .sending import NotificationSender

N = TypeVar("N", bound=NotificationSender)


class SimulatorBase(Generic[N]):
    """The parts of a simulator that do not depend on its channel. ``notifier`` is built from the
    simulator's clock and fault plan, so it draws callback faults from the same plan as the API."""

    def __init__(self, clock: Clock | None, notifier: Callable[[Clock, FaultInjector], N]) -> None:
        self.clock: Clock = clock or SystemClock()
        self.faults = FaultInjector()
        self.notifier: N = notifier(self.clock, self.faults)
        self._closing: asyncio.Event | None = None

    async def stall(self, seconds: float) -> bool:
        """Wait up to ``seconds``; True if cut short because the simulator is closing."""
        if self._closing is None:
            self._closing = asyncio.Event()
        try:
            await asyncio.wait_for(self._closing.wait(), seconds)
        except TimeoutError:
            return False
        return True

    async def wait_callbacks(self) -> None:
        """Until every notification started so far is acknowledged or given up, and every background
        step (a refund finishing by itself) has run."""
        await self.notifier.wait_idle()

    async def aclose(self) -> None:
        """Cancel pending notifications and retries, end stalled requests, close the HTTP client.
        Call it when the simulator is mounted inside another app (a mounted app gets no lifespan)."""
        if self._closing is not None:
            self._closing.set()
            self._closing = None
        await self.notifier.aclose()
