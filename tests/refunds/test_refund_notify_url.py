"""A refund shows the notify URL its notification goes to: its own, else the payment's, else the
app's — in the refund, in the payment's ``refunds`` and in the notification itself."""

from __future__ import annotations

from typing import Any

import pytest

from tests.refunds.support import refund
from tests.support.factories import ok
from tests.support.receiver import Receiver
from tests.support.stack import Stack
from tests.support.wechat import WeChatMerchant, sim_pay


def _refund_event(shop: WeChatMerchant, refund_id: str, payment_id: str) -> dict[str, Any]:
    events = ok(shop.client.get("/v1/notifications", params={"payment_id": payment_id}))["data"]
    [event] = [e for e in events if e["type"] == "refund.succeeded" and e["event"]["data"]["id"] == refund_id]
    return event  # type: ignore[no-any-return]


@pytest.mark.parametrize("given", ["payment", "refund", "app"])
def test_a_refund_shows_where_its_notification_goes(
    tongbao: Stack, shop: WeChatMerchant, receiver: Receiver, given: str
) -> None:
    urls = {"payment": f"{receiver.url}?for=payment", "refund": f"{receiver.url}?for=refund"}
    created = ok(shop.create_payment(**({"notify_url": urls["payment"]} if given != "app" else {})), 201)
    sim_pay(tongbao, code_url=created["action"]["code_url"])
    tongbao.wechatpay_wait()
    payment = shop.payment(created["id"])
    refund_fields = {"notify_url": urls["refund"]} if given == "refund" else {}
    made = ok(refund(shop, payment["id"], 100, **refund_fields), 201)
    expected = urls.get(given, receiver.url)  # the app's notify URL is the receiver's own
    assert made["notify_url"] == expected

    tongbao.wechatpay_wait()
    tongbao.run_jobs()
    shown = ok(shop.client.get(f"/v1/refunds/{made['id']}"))
    assert (shown["status"], shown["notify_url"]) == ("succeeded", expected)
    by_number = ok(shop.client.get("/v1/refunds", params={"out_refund_no": made["out_refund_no"]}))
    assert by_number == shown
    [in_payment] = shop.payment(payment["id"])["refunds"]
    assert in_payment == shown

    event = _refund_event(shop, made["id"], payment["id"])
    assert event["notify_url"] == expected
    assert [d["url"] for d in event["deliveries"]] == [expected]
    assert event["event"]["data"]["notify_url"] == expected
