"""Merchant notifications: the retry schedule, the delivery log, resends, slow endpoints."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import httpx
import pytest

from tests.support.factories import ok
from tests.support.receiver import Receiver
from tests.support.stack import Stack
from tests.support.wechat import WeChatMerchant, sim_pay, wechat_merchant


def _paid(tongbao: Stack, shop: WeChatMerchant) -> str:
    created = ok(shop.create_payment(), 201)
    sim_pay(tongbao, code_url=created["action"]["code_url"])
    tongbao.wechatpay_wait()
    return str(created["id"])


def _event(shop: WeChatMerchant, payment_id: str) -> dict[str, Any]:
    [event] = ok(shop.client.get("/v1/notifications", params={"payment_id": payment_id}))["data"]
    return event  # type: ignore[no-any-return]


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


@pytest.mark.usefixtures("stopped_clock")  # checked a second before each retry is due
def test_an_endpoint_down_for_three_attempts_gets_the_fourth_on_schedule(
    tongbao: Stack, shop: WeChatMerchant, receiver: Receiver
) -> None:
    receiver.fail_next(500, 503, 404)
    payment_id = _paid(tongbao, shop)
    tongbao.run_jobs()
    assert _event(shop, payment_id)["status"] == "pending"

    for wait_s, attempts_before in ((15, 1), (15, 2), (30, 3)):
        tongbao.clock.advance(wait_s - 1)
        tongbao.run_jobs()
        assert len(_event(shop, payment_id)["deliveries"]) == attempts_before  # not yet
        tongbao.clock.advance(1)
        tongbao.run_jobs()

    event = _event(shop, payment_id)
    assert event["status"] == "delivered"
    assert [d["http_status"] for d in event["deliveries"]] == [500, 503, 404, 200]
    times = [_at(d["attempted_at"]) for d in event["deliveries"]]
    gaps = [round((b - a).total_seconds()) for a, b in zip(times, times[1:], strict=False)]
    assert gaps == [15, 15, 30]
    assert all(d["latency_ms"] >= 0 for d in event["deliveries"])
    bodies = {r.body for r in receiver.wait_for(4)}
    assert len(bodies) == 1  # every attempt carries the same event
    shop.client.verify_notification(receiver.received[-1].headers, receiver.received[-1].body)


def test_the_schedule_ends_in_failed_and_a_resend_delivers(
    tongbao: Stack, shop: WeChatMerchant, receiver: Receiver, admin: httpx.Client
) -> None:
    receiver.fail_next(*([500] * 17))  # the first attempt, 15 retries, and the first resend
    payment_id = _paid(tongbao, shop)
    tongbao.run_jobs()
    for _ in range(15):
        tongbao.clock.advance(6 * 3600)
        tongbao.run_jobs()
    event = _event(shop, payment_id)
    assert event["status"] == "failed"
    assert len(event["deliveries"]) == 16
    assert event["next_attempt_at"] is None

    resent = ok(shop.client.post(f"/v1/notifications/{event['id']}/resend"))
    assert resent["status"] == "failed"
    assert resent["deliveries"][-1]["trigger"] == "resend"
    again = ok(admin.post(f"/admin/v1/notifications/{event['id']}/resend"))
    assert again["status"] == "delivered"
    assert again["deliveries"][-1]["http_status"] == 200


@pytest.fixture
def dead_receiver() -> Iterator[Receiver]:
    running = Receiver(hang_s=5.0).start()  # answers long after Tongbao's 2 s timeout
    yield running
    running.stop()


def test_a_dead_endpoint_does_not_delay_a_healthy_one(
    tongbao: Stack,
    admin: httpx.Client,
    receiver: Receiver,
    dead_receiver: Receiver,
    request: pytest.FixtureRequest,
) -> None:
    dead = wechat_merchant(tongbao, admin, notify_url=dead_receiver.url)
    healthy = wechat_merchant(tongbao, admin, notify_url=receiver.url)
    request.addfinalizer(dead.client.close)
    request.addfinalizer(healthy.client.close)
    dead_payments = [_paid(tongbao, dead) for _ in range(8)]
    healthy_payment = _paid(tongbao, healthy)

    started = time.monotonic()
    worker = threading.Thread(target=tongbao.run_jobs)
    worker.start()
    [arrived] = receiver.wait_for(1, timeout_s=1.5)
    assert arrived.at - started < 1.5
    worker.join(timeout=60)
    assert _event(healthy, healthy_payment)["status"] == "delivered"
    # The dead endpoint never had more than its share of deliveries in flight at once: the fifth
    # waited until one of the first four gave up (the 2 s timeout).
    share = tongbao.container.settings.notify_per_endpoint
    arrivals = sorted(r.at for r in dead_receiver.wait_for(share + 1))
    assert arrivals[share] - arrivals[0] >= 1.5
    first = _event(dead, dead_payments[0])
    assert first["deliveries"][0]["error"].startswith("ReadTimeout")
