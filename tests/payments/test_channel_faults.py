"""A misbehaving channel, seen through the merchant API: wrong amounts, 5xx answers, late callbacks.

Whatever the simulator does wrong, a payment only changes state on evidence that can be believed,
the merchant hears of each change once, and the janitor or the expiry run settles what is left.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.support.factories import error_of, ok
from tests.support.receiver import Receiver
from tests.support.stack import Stack
from tests.support.wechat import WeChatMerchant, sim_faults, sim_order, sim_pay

LOST_CALLBACKS = {"endpoint": "callback", "kind": "lost", "rate": 1.0}


def _events(shop: WeChatMerchant, payment_id: str) -> list[str]:
    data = ok(shop.client.get("/v1/notifications", params={"payment_id": payment_id}))["data"]
    return [event["type"] for event in data]


def _order_no(payment: dict[str, Any]) -> str:
    return str(payment["attempts"][0]["channel_order_no"])


def _status(shop: WeChatMerchant, payment: dict[str, Any]) -> str:
    return str(shop.payment(payment["id"])["status"])


def _clear_faults(tongbao: Stack) -> None:
    ok(httpx.delete(f"{tongbao.wechatpay_url}/_control/faults", timeout=10))


def _deliver_notifications(tongbao: Stack) -> None:
    tongbao.run_jobs()


def _sim_has_order(tongbao: Stack, order_no: str) -> bool:
    response = httpx.get(f"{tongbao.wechatpay_url}/_control/orders/{order_no}", timeout=10)
    assert response.status_code in (200, 404), response.text
    return response.status_code == 200


@pytest.mark.parametrize("delta", [1, -34], ids=["overpaid", "underpaid"])
def test_a_callback_with_a_wrong_amount_holds_the_payment_whatever_a_later_query_says(
    tongbao: Stack, shop: WeChatMerchant, admin: httpx.Client, receiver: Receiver, delta: int
) -> None:
    sim_faults(tongbao, {"endpoint": "callback", "kind": "wrong_amount", "rate": 1.0, "delta": delta})
    created = ok(shop.create_payment(amount=1234), 201)
    sim_pay(tongbao, out_trade_no=_order_no(created))  # the payer pays 1234 …
    tongbao.wechatpay_wait()  # … and the signed callback says another amount
    assert _status(shop, created) == "pending"
    assert _events(shop, created["id"]) == []

    [case] = ok(admin.get("/admin/v1/exception-cases", params={"payment_id": created["id"]}))["data"]
    assert (case["kind"], case["status"]) == ("amount_mismatch", "open")
    assert case["attempt_id"] == _order_no(created)
    assert case["evidence"]["expected"] == {"amount": 1234, "currency": "CNY"}
    assert case["evidence"]["channel_result"]["amount"]["total"] == 1234 + delta
    assert case["evidence"]["source"] == "callback"
    assert "1234" in case["summary"] and str(1234 + delta) in case["summary"]
    alerts = ok(admin.get("/admin/v1/alerts"))["data"]
    assert [(a["kind"], a["severity"]) for a in alerts if a["data"].get("case_id") == case["id"]] == [
        ("case.amount_mismatch", "critical")
    ]
    tongbao.run_jobs()
    assert receiver.received == []

    # The janitor's queries (a minute in, then five) hear the amount asked for: the channel has
    # contradicted its own signed word, so neither report is believed and the payment stays held.
    for _ in range(2):
        tongbao.clock.advance(5 * 60)
        _deliver_notifications(tongbao)
    payment = shop.payment(created["id"])
    assert (payment["status"], payment["captured_amount"]) == ("pending", None)
    assert _events(shop, created["id"]) == []
    still = ok(admin.get(f"/admin/v1/exception-cases/{case['id']}"))
    assert still["status"] == "open"
    [heard] = still["history"]
    assert (heard["action"], heard["actor"], heard["detail"]["amount"]) == (
        "channel_contradicted",
        "system",
        1234,
    )
    assert (
        error_of(shop.client.post(f"/v1/payments/{created['id']}/close"), 409)["code"]
        == "payment_under_review"
    )
    # The operator, who has the channel's statement, decides: here the amount asked for was right.
    decided = admin.post(
        f"/admin/v1/exception-cases/{case['id']}/decisions",
        json={"decision": "accept", "reason": "the statement shows 12.34", "amount": 1234},
    )
    assert ok(decided)["status"] == "resolved"
    payment = shop.payment(created["id"])
    assert (payment["status"], payment["captured_amount"]) == ("succeeded", 1234)
    assert _events(shop, created["id"]) == ["payment.succeeded"]


def test_a_5xx_on_create_leaves_nothing_at_the_channel_and_expiry_closes_the_payment(
    tongbao: Stack, shop: WeChatMerchant, receiver: Receiver
) -> None:
    sim_faults(tongbao, {"endpoint": "create", "kind": "error_5xx", "rate": 1.0})
    created = ok(shop.create_payment(expire_in_seconds=120), 201)
    assert created["status"] == "pending"
    assert created["action"] == {"type": "none"}
    assert created["attempts"][0]["error"].startswith("SYSTEM_ERROR")
    order_no = _order_no(created)
    assert not _sim_has_order(tongbao, order_no)

    tongbao.clock.advance(61)  # the janitor asks: the channel has never heard of the order
    tongbao.run_jobs()
    assert _status(shop, created) == "pending"
    assert _events(shop, created["id"]) == []

    tongbao.clock.advance(60)  # past the expiry
    _deliver_notifications(tongbao)
    payment = shop.payment(created["id"])
    assert payment["status"] == "closed"
    assert payment["closed_at"] is not None
    assert payment["attempts"][0]["status"] == "closed"
    assert _events(shop, created["id"]) == ["payment.closed"]
    assert not _sim_has_order(tongbao, order_no)
    [arrived] = receiver.wait_for(1)
    assert shop.client.verify_notification(arrived.headers, arrived.body)["type"] == "payment.closed"


def test_a_system_error_on_create_still_opens_the_order_and_the_janitor_finds_it_paid(
    tongbao: Stack, shop: WeChatMerchant
) -> None:
    # Applied, then 500: the order exists although the merchant was told nothing useful.
    sim_faults(tongbao, {"endpoint": "create", "kind": "system_error", "rate": 1.0}, LOST_CALLBACKS)
    created = ok(shop.create_payment(), 201)
    assert created["status"] == "pending"
    assert created["action"] == {"type": "none"}
    order_no = _order_no(created)
    assert sim_order(tongbao, order_no)["trade_state"] == "NOTPAY"

    sim_pay(tongbao, out_trade_no=order_no)
    tongbao.wechatpay_wait()
    assert _status(shop, created) == "pending"  # the callback was lost

    tongbao.clock.advance(61)
    tongbao.run_jobs()
    assert _status(shop, created) == "succeeded"
    assert _events(shop, created["id"]) == ["payment.succeeded"]


def test_a_query_that_fails_is_asked_again_on_the_next_round(tongbao: Stack, shop: WeChatMerchant) -> None:
    sim_faults(tongbao, LOST_CALLBACKS, {"endpoint": "query", "kind": "error_5xx", "rate": 1.0})
    created = ok(shop.create_payment(), 201)
    sim_pay(tongbao, out_trade_no=_order_no(created))
    tongbao.wechatpay_wait()

    tongbao.clock.advance(61)  # the first round gets a 500
    tongbao.run_jobs()
    assert _status(shop, created) == "pending"
    assert _events(shop, created["id"]) == []

    _clear_faults(tongbao)
    tongbao.clock.advance(180)  # not yet the second round (five minutes after creation)
    tongbao.run_jobs()
    assert _status(shop, created) == "pending"

    tongbao.clock.advance(60)
    tongbao.run_jobs()
    assert _status(shop, created) == "succeeded"
    assert _events(shop, created["id"]) == ["payment.succeeded"]


def test_a_delayed_callback_succeeds_the_payment_when_it_arrives(
    tongbao: Stack, shop: WeChatMerchant, receiver: Receiver
) -> None:
    sim_faults(tongbao, {"endpoint": "callback", "kind": "delay", "rate": 1.0, "delay_s": 0.3})
    created = ok(shop.create_payment(), 201)
    sim_pay(tongbao, out_trade_no=_order_no(created))
    assert _status(shop, created) == "pending"  # the callback is still on its way

    tongbao.wechatpay_wait()
    assert _status(shop, created) == "succeeded"
    [callback] = sim_order(tongbao, _order_no(created))["callbacks"]
    assert callback["status_code"] in (200, 204)
    assert _events(shop, created["id"]) == ["payment.succeeded"]
    tongbao.run_jobs()
    receiver.wait_for(1)
    tongbao.clock.advance(61)  # the janitor has nothing left to do
    tongbao.run_jobs()
    assert len(receiver.received) == 1
    assert _events(shop, created["id"]) == ["payment.succeeded"]


def test_a_close_that_fails_at_expiry_is_tried_again_thirty_seconds_later(
    tongbao: Stack, shop: WeChatMerchant
) -> None:
    created = ok(shop.create_payment(expire_in_seconds=120), 201)
    order_no = _order_no(created)
    sim_faults(tongbao, {"endpoint": "close", "kind": "error_5xx", "rate": 1.0})
    tongbao.clock.advance(121)
    tongbao.run_jobs()
    assert _status(shop, created) == "pending"
    assert _events(shop, created["id"]) == []
    assert sim_order(tongbao, order_no)["trade_state"] == "NOTPAY"  # the failed close did nothing

    _clear_faults(tongbao)
    tongbao.clock.advance(25)
    tongbao.run_jobs()
    assert _status(shop, created) == "pending"  # the retry is not due yet

    tongbao.clock.advance(5)
    tongbao.run_jobs()
    payment = shop.payment(created["id"])
    assert payment["status"] == "closed"
    assert sim_order(tongbao, order_no)["trade_state"] == "CLOSED"
    assert _events(shop, created["id"]) == ["payment.closed"]
