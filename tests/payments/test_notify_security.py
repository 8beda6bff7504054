"""Alipay and UnionPay notifications that cannot be believed are refused in the channel's own words
and change nothing."""

from __future__ import annotations

import httpx

from tests.support.alipay import add_alipay
from tests.support.factories import ok
from tests.support.stack import Stack
from tests.support.unionpay import add_unionpay, unionpay_order_id
from tests.support.wechat import WeChatMerchant


def _unchanged(shop: WeChatMerchant, payment_id: str) -> None:
    assert shop.payment(payment_id)["status"] == "pending"
    assert ok(shop.client.get("/v1/notifications", params={"payment_id": payment_id}))["data"] == []


def test_a_forged_alipay_notification_is_answered_fail(
    tongbao: Stack, admin: httpx.Client, shop: WeChatMerchant
) -> None:
    account_id = add_alipay(tongbao, admin, shop)
    created = ok(shop.create_payment(method="alipay_qr", amount=800), 201)
    order_no = created["attempts"][0]["channel_order_no"]
    forged = {
        "app_id": "2021000000000000", "out_trade_no": order_no, "trade_no": "2026112522001400000000000001",
        "trade_status": "TRADE_SUCCESS", "total_amount": "8.00", "sign_type": "RSA2", "sign": "Zm9yZ2Vk",
        "notify_type": "trade_status_sync", "notify_id": "n1", "notify_time": "2026-11-25 10:00:00",
    }  # fmt: skip
    for body in (forged, {**forged, "total_amount": "8.001"}, {**forged, "trade_status": "TRADE_WHATEVER"}):
        answer = httpx.post(f"{tongbao.url}/callbacks/alipay/{account_id}", data=body, timeout=10)
        assert (answer.status_code, answer.text) == (400, "fail")
    _unchanged(shop, created["id"])


def test_a_forged_unionpay_notification_is_refused(
    tongbao: Stack, admin: httpx.Client, shop: WeChatMerchant
) -> None:
    account_id = add_unionpay(tongbao, admin, shop)
    created = ok(shop.create_payment(method="unionpay_web", amount=800), 201)
    fields = created["action"]["fields"]
    forged = {
        **fields, "respCode": "00", "respMsg": "success", "queryId": "1" * 21,
        "orderId": unionpay_order_id(created["attempts"][0]["channel_order_no"]), "signature": "Zm9yZ2Vk",
    }  # fmt: skip
    answer = httpx.post(f"{tongbao.url}/callbacks/unionpay/{account_id}", data=forged, timeout=10)
    assert answer.status_code == 400
    _unchanged(shop, created["id"])
