"""Applying a call's faults around the work it asks for, the same way in every simulator.

``latency`` delays the call; ``error_5xx`` refuses it having done nothing; ``timeout`` stalls the
answer after the work is done, or — with ``before`` — stalls first, and if the caller hangs up in the
meantime the request never got through, so nothing is done. ``system_error`` is left to the caller:
the work is done and only the answer differs, which is each channel's own wording.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Protocol, TypeVar

from starlette.requests import Request

from .faults import FaultKind, Faults

T = TypeVar("T")


class Stalling(Protocol):
    async def stall(self, seconds: float) -> bool:
        """Wait up to ``seconds``; True if cut short because the simulator is closing."""
        ...


async def stall(sim: Stalling, request: Request, seconds: float) -> None:
    # Stop early once the caller has hung up or the simulator closes, so servers shut down promptly.
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while (left := deadline - loop.time()) > 0:
        if await request.is_disconnected() or await sim.stall(min(0.05, left)):
            return


async def apply_faults(
    sim: Stalling,
    request: Request,
    faults: Faults,
    work: Callable[[], T],
    refused: Callable[[], Exception],
) -> T:
    """Run ``work`` under the call's faults; ``refused`` is the error that answers "nothing done"."""
    latency = faults.get(FaultKind.LATENCY)
    if latency is not None:
        await asyncio.sleep(latency.param("latency_ms") / 1000)
    if faults.get(FaultKind.ERROR_5XX) is not None:
        raise refused()
    timeout = faults.get(FaultKind.TIMEOUT)
    if timeout is not None and timeout.param("before"):
        await stall(sim, request, timeout.param("hang_s"))
        if await request.is_disconnected():
            raise refused()
    try:
        return work()
    finally:
        # Applied (or refused), then the answer is late: the caller times out not knowing which.
        if timeout is not None and not timeout.param("before"):
            await stall(sim, request, timeout.param("hang_s"))
