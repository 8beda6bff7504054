"""Quiescence: the run is over when nothing is due any more. Every payment has passed its expiry, no
job of the run is due or running, no expired payment is still pending (unless held for an operator)
and the simulators have no callback left to send; twice in a row, a second apart. Bounded: past
the limit the checks run anyway and say what was still moving."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

import httpx

from tongbao.channels.kinds import Channel
from tongbao.container import Container

from .records import Records, read_records


@dataclass(frozen=True)
class Settled:
    reached: bool
    waited_s: float
    still: dict[str, int]  # what was still moving at the last look


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
    found: dict[Channel, int] = {}
    async with httpx.AsyncClient(timeout=5.0, trust_env=False) as http:
        for channel, url in simulator_urls.items():
            try:
                found[channel] = int((await http.get(f"{url}/_control/callbacks")).json()["pending"])
            except (httpx.HTTPError, ValueError, KeyError):
                found[channel] = 1  # a simulator that does not answer is not known to be idle
    return found


async def settle(
    c: Container, merchant_id: str, simulator_urls: Mapping[Channel, str], limit_s: float
) -> Settled:
    begin = time.monotonic()
    calm = 0
    still: dict[str, int] = {}
    while True:
        records = await read_records(c, merchant_id)
        still = moving(records, await pending_callbacks(simulator_urls))
        calm = calm + 1 if not still else 0
        waited = time.monotonic() - begin
        if calm >= 2:
            return Settled(True, waited, {})
        if waited > limit_s:
            return Settled(False, waited, still)
        await asyncio.sleep(1.0)


def grace() -> timedelta:
    """How long past a due time counts as "long ago" for the checks: the worker polls every second,
    and a sweep runs every 30 s."""
    return timedelta(seconds=45)
