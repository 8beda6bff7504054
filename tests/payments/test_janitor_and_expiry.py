"""Payments the channel never told us about: the janitor's queries, expiry, and crashed workers."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.support.factories import ok
from tests.support.receiver import Receiver
from tests.support.stack import Stack
from tests.support.wechat import WeChatMerchant, sim_faults, sim_order, sim_pay
from tongbao.jobs import queue

# Due a minute after creation, expired at 120 s: steps a second either side of such moments.
pytestmark = pytest.mark.usefixtures("stopped_clock")

LOST_CALLBACKS = {"endpoint": "callback", "kind": "lost", "rate": 1.0}


def _events(shop: WeChatMerchant, payment_id: str) -> list[dict[str, Any]]:
    return ok(shop.client.get("/v1/notifications", params={"payment_id": payment_id}))["data"]  # type: ignore[no-any-return]


def _order_no(payment: dict[str, Any]) -> str:
    return str(payment["attempts"][0]["channel_order_no"])


def test_a_lost_callback_is_made_good_by_the_janitors_query(
    tongbao: Stack, shop: WeChatMerchant, receiver: Receiver
) -> None:
    sim_faults(tongbao, LOST_CALLBACKS)
    created = ok(shop.create_payment(), 201)
    sim_pay(tongbao, out_trade_no=_order_no(created))
    tongbao.wechatpay_wait()
    tongbao.run_jobs()
    assert shop.payment(created["id"])["status"] == "pending"  # nobody told us yet

    tongbao.clock.advance(61)  # the janitor's first query is due a minute after creation
    tongbao.run_jobs()
    assert shop.payment(created["id"])["status"] == "succeeded"
    [event] = _events(shop, created["id"])
    assert event["type"] == "payment.succeeded"
    receiver.wait_for(1)
    shop.client.verify_notification(receiver.received[0].headers, receiver.received[0].body)


def test_a_create_that_times_out_stays_pending_and_the_query_resolves_it(
    tongbao: Stack, shop: WeChatMerchant
) -> None:
    # The simulator creates the order, then answers too late for Tongbao's 2 s channel timeout.
    sim_faults(tongbao, {"endpoint": "create", "kind": "timeout", "rate": 1.0, "hang_s": 3}, LOST_CALLBACKS)
    response = shop.create_payment()
    created = ok(response, 201)
    assert created["status"] == "pending"
    assert created["action"] == {"type": "none"}
    order_no = _order_no(created)
    assert sim_order(tongbao, order_no)["trade_state"] == "NOTPAY"  # it does exist at the channel

    sim_pay(tongbao, out_trade_no=order_no)
    tongbao.clock.advance(61)
    tongbao.run_jobs()
    payment = shop.payment(created["id"])
    assert payment["status"] == "succeeded"
    assert len(_events(shop, created["id"])) == 1


def test_fifty_duplicate_callbacks_at_once_make_one_transition_and_one_event(
    tongbao: Stack, shop: WeChatMerchant, receiver: Receiver
) -> None:
    sim_faults(tongbao, {"endpoint": "callback", "kind": "duplicate", "rate": 1.0, "copies": 50})
    created = ok(shop.create_payment(), 201)
    sim_pay(tongbao, out_trade_no=_order_no(created))
    tongbao.wechatpay_wait()
    record = sim_order(tongbao, _order_no(created))
    answered = [c for c in record["callbacks"] if c.get("status_code") in (200, 204)]
    assert len(answered) == 50  # every copy was acknowledged …
    assert shop.payment(created["id"])["status"] == "succeeded"
    assert len(_events(shop, created["id"])) == 1  # … and applied once
    tongbao.run_jobs()
    receiver.wait_for(1)
    tongbao.run_jobs()
    assert len(receiver.received) == 1


def test_expiry_closes_the_order_at_the_channel(tongbao: Stack, shop: WeChatMerchant) -> None:
    created = ok(shop.create_payment(expire_in_seconds=120), 201)
    tongbao.run_jobs()
    tongbao.clock.advance(119)
    tongbao.run_jobs()
    assert shop.payment(created["id"])["status"] == "pending"

    tongbao.clock.advance(2)
    tongbao.run_jobs()
    payment = shop.payment(created["id"])
    assert payment["status"] == "closed"
    assert payment["closed_at"] is not None
    assert sim_order(tongbao, _order_no(created))["trade_state"] == "CLOSED"
    assert [e["type"] for e in _events(shop, created["id"])] == ["payment.closed"]


def test_a_payment_paid_just_before_expiry_ends_succeeded_not_closed(
    tongbao: Stack, shop: WeChatMerchant
) -> None:
    sim_faults(tongbao, LOST_CALLBACKS)
    created = ok(shop.create_payment(expire_in_seconds=60), 201)
    # Moments before the end: WeChat's time_expire has whole seconds, so the channel's deadline may
    # be up to a second before ours.
    tongbao.clock.advance(57)
    sim_pay(tongbao, out_trade_no=_order_no(created))
    tongbao.clock.advance(4)
    tongbao.run_jobs()
    payment = shop.payment(created["id"])
    assert payment["status"] == "succeeded"
    assert [e["type"] for e in _events(shop, created["id"])] == ["payment.succeeded"]
    assert sim_order(tongbao, _order_no(created))["trade_state"] == "SUCCESS"


def test_merchant_close_of_a_payment_paid_meanwhile_returns_it_succeeded(
    tongbao: Stack, shop: WeChatMerchant
) -> None:
    sim_faults(tongbao, LOST_CALLBACKS)
    created = ok(shop.create_payment(), 201)
    sim_pay(tongbao, out_trade_no=_order_no(created))
    closed = ok(shop.client.post(f"/v1/payments/{created['id']}/close"))
    assert closed["status"] == "succeeded"


def test_a_job_held_by_a_crashed_worker_runs_again_and_its_effect_happens_once(
    tongbao: Stack, shop: WeChatMerchant, admin: httpx.Client
) -> None:
    sim_faults(tongbao, LOST_CALLBACKS)
    created = ok(shop.create_payment(), 201)
    sim_pay(tongbao, out_trade_no=_order_no(created))
    tongbao.clock.advance(61)
    # A worker takes the due query job under a 60 s lease and dies without finishing it.
    [held] = tongbao.server.run(queue.claim(tongbao.container, "crashed-worker", 10, 60))
    assert held.kind == "payment.query"
    tongbao.run_jobs()
    assert shop.payment(created["id"])["status"] == "pending"  # nobody else touches a leased job

    tongbao.clock.advance(61)  # the lease runs out
    tongbao.run_jobs()
    assert shop.payment(created["id"])["status"] == "succeeded"
    # The crashed worker coming back cannot record its stale run over the new one.
    assert tongbao.server.run(queue.finish(tongbao.container, held)) is False
    tongbao.clock.advance(3600)
    tongbao.run_jobs()
    assert len(_events(shop, created["id"])) == 1
