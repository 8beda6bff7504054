"""Closed-loop load: N concurrent clients each repeat one operation until a count or a time is up."""

from __future__ import annotations

import asyncio
import math
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of ``values``; 0.0 for none."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


@dataclass
class Round:
    concurrency: int
    elapsed_s: float = 0.0
    latencies_ms: list[float] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)

    @property
    def completed(self) -> int:
        return len(self.latencies_ms)

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())

    @property
    def per_s(self) -> float:
        return self.completed / self.elapsed_s if self.elapsed_s else 0.0

    @property
    def p50_ms(self) -> float:
        return percentile(self.latencies_ms, 50)

    @property
    def p99_ms(self) -> float:
        return percentile(self.latencies_ms, 99)


class OperationFailed(Exception):
    """An operation's failure, counted by its message (keep it short and free of ids)."""


Operation = Callable[[int], Awaitable[None]]


async def run_round(
    operation: Operation,
    concurrency: int,
    duration_s: float,
    max_count: int,
    rate_per_s: float | None = None,
) -> Round:
    """Runs ``operation(sequence_number)`` from ``concurrency`` clients until ``duration_s`` has
    passed or ``max_count`` operations have started; only successes count toward the latencies.
    With ``rate_per_s`` the operations start on a schedule (open loop) instead of back to back."""
    result = Round(concurrency)
    started = 0
    deadline = time.monotonic() + duration_s
    origin = time.monotonic()

    async def client() -> None:
        nonlocal started
        while started < max_count and time.monotonic() < deadline:
            number = started
            started += 1
            if rate_per_s:
                await asyncio.sleep(max(0.0, origin + number / rate_per_s - time.monotonic()))
            begin = time.perf_counter()
            try:
                await operation(number)
            except OperationFailed as exc:
                result.errors[str(exc)] += 1
            except (OSError, TimeoutError) as exc:
                result.errors[type(exc).__name__] += 1
            else:
                result.latencies_ms.append((time.perf_counter() - begin) * 1000)

    begin = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(concurrency)))
    result.elapsed_s = time.perf_counter() - begin
    return result
