"""Paying and refunding through the merchant API, for the refund tests."""

from __future__ import annotations

import secrets
from typing import Any

import httpx

from tests.support.factories import ok
from tests.support.stack import Stack
from tests.support.wechat import WeChatMerchant, sim_pay


def paid(tongbao: Stack, shop: WeChatMerchant, amount: int = 1000) -> dict[str, Any]:
    created = ok(shop.create_payment(amount=amount), 201)
    sim_pay(tongbao, code_url=created["action"]["code_url"])
    tongbao.wechatpay_wait()
    payment = shop.payment(created["id"])
    assert payment["status"] == "succeeded"
    return payment


def refund(shop: WeChatMerchant, payment_id: str, amount: int, **fields: Any) -> httpx.Response:
    body = {
        "payment_id": payment_id,
        "out_refund_no": f"rf-{secrets.token_hex(6)}",
        "amount": amount,
        **fields,
    }
    return shop.client.post("/v1/refunds", json=body)


def event_types(shop: WeChatMerchant, payment_id: str) -> list[str]:
    events = ok(shop.client.get("/v1/notifications", params={"payment_id": payment_id}))["data"]
    return sorted(e["type"] for e in events)
