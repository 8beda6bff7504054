"""The ledger refuses by itself: a posting to a frozen account, a debit that would take a merchant's
pending below zero. The business change that caused it rolls back whole, and operators see an alert
and a case."""

from __future__ import annotations

from typing import Any

import httpx

from tests.support.factories import error_of, ok
from tests.support.ledger import cli_json, fold_and_seal
from tests.support.stack import Stack
from tests.support.wechat import WeChatMerchant, sim_pay
from tests.support.wechat_callbacks import Scene, send


def _ledger_cases(admin: httpx.Client, payment_id: str) -> list[dict[str, Any]]:
    cases = ok(admin.get("/admin/v1/exception-cases", params={"payment_id": payment_id}))["data"]
    return [c for c in cases if c["kind"] == "ledger_refused"]


def _refusal_alerts(admin: httpx.Client) -> list[dict[str, Any]]:
    return [a for a in ok(admin.get("/admin/v1/alerts"))["data"] if a["kind"] == "ledger.refused"]


def test_a_capture_into_a_frozen_account_is_refused_whole_until_it_is_unfrozen(
    tongbao: Stack, shop: WeChatMerchant, admin: httpx.Client
) -> None:
    first = ok(shop.create_payment(amount=800), 201)
    sim_pay(tongbao, out_trade_no=first["attempts"][0]["channel_order_no"])
    tongbao.wechatpay_wait()
    pending = f"merchant:{shop.merchant_id}:pending:CNY"
    frozen = ok(admin.post(f"/admin/v1/ledger/accounts/{pending}/freeze", json={"reason": "court order 17"}))
    assert (frozen["frozen"], frozen["balance"]) == (True, 800)
    assert frozen["frozen_reason"].startswith("court order 17")

    payment = ok(shop.create_payment(amount=1500), 201)
    scene = Scene(tongbao, admin, shop, payment)
    refused = send(tongbao, scene.genuine())
    assert refused.status_code >= 400  # the channel is told to try again: nothing was applied
    seen = shop.payment(payment["id"])
    assert (seen["status"], seen["captured_amount"]) == ("pending", None)
    assert ok(admin.get("/admin/v1/ledger/entries", params={"payment_id": payment["id"]}))["data"] == []
    [case] = _ledger_cases(admin, payment["id"])
    assert case["status"] == "open" and "account_frozen" == case["evidence"]["code"]
    assert pending in case["summary"]
    assert any(a["data"]["case_id"] == case["id"] for a in _refusal_alerts(admin))

    ok(admin.post(f"/admin/v1/ledger/accounts/{pending}/unfreeze"))
    assert send(tongbao, scene.genuine()).status_code == 204
    assert shop.payment(payment["id"])["status"] == "succeeded"
    fold_and_seal(tongbao)
    assert ok(shop.client.get("/v1/balance"))["balances"][0]["pending"] == 2300
    assert cli_json(tongbao, "ledger", "check")[0] == 0


def test_a_refund_the_merchants_pending_cannot_cover_is_refused_and_nothing_is_written(
    tongbao: Stack, shop: WeChatMerchant, admin: httpx.Client
) -> None:
    # The plan keeps its fee when a payment is refunded: a full refund needs the fee from elsewhere.
    body = {
        "method": "wechat_native",
        "rate_bps": "60",
        "refund_mode": "none",
        "merchant_id": shop.merchant_id,
    }
    ok(admin.post("/admin/v1/fee-plans", json=body), 201)
    payment = ok(shop.create_payment(amount=1000), 201)
    sim_pay(tongbao, out_trade_no=payment["attempts"][0]["channel_order_no"])
    tongbao.wechatpay_wait()
    assert ok(shop.client.get("/v1/balance"))["balances"][0]["pending"] == 994

    refund = {"payment_id": payment["id"], "out_refund_no": "r-all", "amount": 1000}
    refused = error_of(shop.client.post("/v1/refunds", json=refund), 409)
    assert refused["code"] == "balance_insufficient"
    assert ok(shop.client.get("/v1/refunds", params={"payment_id": payment["id"]}))["data"] == []
    seen = shop.payment(payment["id"])
    assert (seen["status"], seen["refunded_amount"]) == ("succeeded", 0)
    [case] = _ledger_cases(admin, payment["id"])
    assert case["evidence"]["code"] == "balance_insufficient"
    assert _refusal_alerts(admin)
    # What the pending does cover still goes through.
    ok(shop.client.post("/v1/refunds", json={**refund, "out_refund_no": "r-part", "amount": 994}), 201)
    tongbao.wechatpay_wait()
    fold_and_seal(tongbao)
    assert ok(shop.client.get("/v1/balance"))["balances"][0]["pending"] == 0
    assert cli_json(tongbao, "ledger", "check")[0] == 0
