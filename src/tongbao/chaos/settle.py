"""Quiescence: the run is over when nothing is due any more. Every payment has passed its expiry, no
job of the run is due or running, no expired payment is still pending (unless held for an operator)
and the simulators have no callback to send now or soon; twice in a row, a second apart. Bounded: past
the limit the checks run anyway and say what was still moving."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Final

import httpx

from tongbao.channels.kinds import Channel
from tongbao.container import Container

from .records import Records, read_records

# A channel's retry due within this long is waited for (WeChat Pay's come after 15 s and 15 s).
RETRY_SOON_S: Final = 20.0


@dataclass(frozen=True)
class Settled:
    reached: bool
    waited_s: float
    still: dict[str, int]  # what was still moving at the last look
    trace: list[tuple[float, dict[str, int]]]  # (seconds waited, what was moving) at each change


def moving(records: Records, callbacks: Mapping[Channel, int]) -> dict[str, int]:
    now = records.now
    held = records.open_case_payments()
    work = [j for j in records.jobs if j.every_s is None]
    still = {
        "payments_not_yet_expired": sum(
            1 for p in records.payments if p.status == "pending" and p.expires_at > now
        ),
        "expired_payments_pending": sum(
            1 for p in records.payments if p.status == "pending" and p.expires_at <= now and p.id not in held
        ),
        "jobs_due": sum(1 for j in work if j.status == "queued" and j.run_at <= now),
        "jobs_running": sum(1 for j in work if j.status == "running"),
        "events_due": sum(
            1
            for e in records.events
            if e.status == "pending" and (e.next_attempt_at is None or e.next_attempt_at <= now)
        ),
    }
    still.update({f"{channel.value}_callbacks": n for channel, n in callbacks.items()})
    return {name: n for name, n in still.items() if n}


async def pending_callbacks(simulator_urls: Mapping[Channel, str]) -> dict[Channel, int]:
    """Callbacks each simulator is sending now or will retry soon. One waiting minutes on its
    channel's schedule (Alipay tries again after 4 minutes) is not waited for: it repeats what
    Tongbao had to find out by itself meanwhile, and the checks say whether it did."""
    found: dict[Channel, int] = {}
    async with httpx.AsyncClient(timeout=5.0, trust_env=False) as http:
        for channel, url in simulator_urls.items():
            try:
                counts = (await http.get(f"{url}/_control/callbacks")).json()
                soon = counts["next_retry_in_s"] is not None and counts["next_retry_in_s"] < RETRY_SOON_S
                found[channel] = int(counts["pending"]) - int(counts["retrying"]) + int(soon)
            except (httpx.HTTPError, ValueError, KeyError, TypeError):
                found[channel] = 1  # a simulator that does not answer is not known to be idle
    return found


async def settle(
    c: Container,
    merchant_id: str,
    simulator_urls: Mapping[Channel, str],
    limit_s: float,
    on_look: Callable[[dict[str, int]], None] = lambda _: None,
) -> Settled:
    begin = time.monotonic()
    calm = 0
    trace: list[tuple[float, dict[str, int]]] = []
    while True:
        records = await read_records(c, merchant_id)
        still = moving(records, await pending_callbacks(simulator_urls))
        waited = time.monotonic() - begin
        if not trace or trace[-1][1].keys() != still.keys():
            trace.append((round(waited, 1), still))
        on_look(still)
        calm = calm + 1 if not still else 0
        if calm >= 2:
            return Settled(True, waited, {}, trace)
        if waited > limit_s:
            return Settled(False, waited, still, trace)
        await asyncio.sleep(1.0)


def grace() -> timedelta:
    """How long past a due time counts as "long ago" for the checks: the worker polls every second,
    and a sweep runs every 30 s."""
    return timedelta(seconds=45)
