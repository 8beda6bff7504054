"""A notification's ``attempts`` counts the deliveries it lists, however they went."""

from __future__ import annotations

from typing import Any

from tests.support.factories import ok
from tests.support.receiver import Receiver
from tests.support.stack import Stack
from tests.support.wechat import WeChatMerchant, sim_pay


def _event_of_paid_payment(tongbao: Stack, shop: WeChatMerchant) -> str:
    created = ok(shop.create_payment(), 201)
    sim_pay(tongbao, code_url=created["action"]["code_url"])
    tongbao.wechatpay_wait()
    [event] = ok(shop.client.get("/v1/notifications", params={"payment_id": created["id"]}))["data"]
    return str(event["id"])


def _seen(shop: WeChatMerchant, event_id: str) -> tuple[dict[str, Any], dict[str, Any]]:
    listed = ok(shop.client.get("/v1/notifications"))["data"]
    [from_list] = [e for e in listed if e["id"] == event_id]
    return from_list, ok(shop.client.get(f"/v1/notifications/{event_id}"))


def test_a_notification_delivered_at_once_shows_one_attempt(
    tongbao: Stack, shop: WeChatMerchant, receiver: Receiver
) -> None:
    event_id = _event_of_paid_payment(tongbao, shop)
    for view in _seen(shop, event_id):
        assert (view["attempts"], view["deliveries"]) == (0, []) and view["status"] == "pending"

    tongbao.run_jobs()
    receiver.wait_for(1)
    for view in _seen(shop, event_id):
        assert view["status"] == "delivered"
        assert [d["attempt"] for d in view["deliveries"]] == [1]
        assert view["attempts"] == 1


def test_failed_scheduled_and_resent_deliveries_all_count(
    tongbao: Stack, shop: WeChatMerchant, receiver: Receiver
) -> None:
    receiver.fail_next(500, 503)
    event_id = _event_of_paid_payment(tongbao, shop)
    tongbao.run_jobs()
    tongbao.clock.advance(15)
    tongbao.run_jobs()
    resent = ok(shop.client.post(f"/v1/notifications/{event_id}/resend"))
    assert [(d["attempt"], d["trigger"], d["http_status"]) for d in resent["deliveries"]] == [
        (1, "schedule", 500),
        (2, "schedule", 503),
        (3, "resend", 200),
    ]
    assert resent["attempts"] == 3
    for view in _seen(shop, event_id):
        assert (view["attempts"], len(view["deliveries"])) == (3, 3)
