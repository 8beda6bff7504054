"""Exception cases through the admin API: listing them, deciding them, and the captures that open
them, for the tests of what operators see and decide."""

from __future__ import annotations

from typing import Any

import httpx

from .factories import ok
from .stack import Stack
from .wechat import WeChatMerchant, sim_pay


def cases_of(admin: httpx.Client, payment_id: str) -> list[dict[str, Any]]:
    return ok(admin.get("/admin/v1/exception-cases", params={"payment_id": payment_id}))["data"]  # type: ignore[no-any-return]


def decide(admin: httpx.Client, case_id: str, decision: str, reason: str = "checked") -> httpx.Response:
    return admin.post(
        f"/admin/v1/exception-cases/{case_id}/decisions", json={"decision": decision, "reason": reason}
    )


def events_of(shop: WeChatMerchant, payment_id: str) -> list[str]:
    """The merchant's notification types for a payment, oldest first."""
    data = ok(shop.client.get("/v1/notifications", params={"payment_id": payment_id}))["data"]
    return [e["type"] for e in reversed(data)]


def hold_for_review(admin: httpx.Client, shop: WeChatMerchant) -> None:
    body = {"policy": "hold_for_review"}
    assert ok(admin.put(f"/admin/v1/merchants/{shop.merchant_id}/exception-policy", json=body))["policy"] == (
        "hold_for_review"
    )


def underpaid(
    tongbao: Stack, shop: WeChatMerchant, admin: httpx.Client, *, amount: int = 1234, paid: int = 1200
) -> tuple[dict[str, Any], dict[str, Any]]:
    """A payment of ``amount`` the payer paid ``paid`` for: the channel captured another amount, and
    the payment is held with an open amount_mismatch case."""
    created = ok(shop.create_payment(amount=amount), 201)
    sim_pay(tongbao, out_trade_no=created["attempts"][0]["channel_order_no"], amount=paid)
    tongbao.wechatpay_wait()
    assert shop.payment(created["id"])["status"] == "pending"
    [case] = cases_of(admin, created["id"])
    assert (case["kind"], case["status"]) == ("amount_mismatch", "open")
    assert case["evidence"]["expected"] == {"amount": amount, "currency": "CNY"}
    assert case["evidence"]["reported"]["amount"] == paid
    return created, case


def paid_twice(tongbao: Stack, shop: WeChatMerchant, amount: int) -> dict[str, Any]:
    """A payment the payer paid twice at the cashier: two attempts, both captured at WeChat Pay."""
    created: dict[str, Any] = ok(shop.create_payment(method=None, amount=amount), 201)
    url = created["action"]["url"]
    first = ok(httpx.post(f"{url}/attempts", json={"method": "wechat_native"}))
    second = ok(httpx.post(f"{url}/attempts", json={"method": "wechat_native"}))
    sim_pay(tongbao, code_url=first["code_url"])
    sim_pay(tongbao, code_url=second["code_url"])
    tongbao.wechatpay_wait()
    return created
