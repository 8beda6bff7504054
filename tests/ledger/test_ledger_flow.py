"""Every fen of a mixed day in the journal: payments through a shared and an own channel account,
partial and full refunds, a duplicate capture refunded by policy, a late success reopened, one
amount mismatch accepted and another refunded. Balances, fee revenue and channel cost are checked
against figures worked out by hand below, and ``tongbao ledger check``, ``ledger verify`` and
``recon internal`` pass on what the real API, simulator and worker wrote.

The plans: 60 bps with a 1 fen minimum for wechat_native (the platform's default), 30 bps for the
own-account merchant, and the channel's cost of 25 bps on the shared account. Rounding is half up.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.support.cases import cases_of, decide, paid_twice, underpaid
from tests.support.factories import ok
from tests.support.ledger import balance, cli_json, fold_and_seal
from tests.support.stack import Stack
from tests.support.wechat import WeChatMerchant, sim_pay, wechat_merchant
from tests.support.wechat_callbacks import Scene, send


def _paid(tongbao: Stack, shop: WeChatMerchant, amount: int) -> dict[str, Any]:
    created = ok(shop.create_payment(amount=amount), 201)
    sim_pay(tongbao, out_trade_no=created["attempts"][0]["channel_order_no"])
    tongbao.wechatpay_wait()
    assert shop.payment(created["id"])["status"] == "succeeded"
    return created


def _refund(tongbao: Stack, shop: WeChatMerchant, payment_id: str, amount: int, no: str) -> None:
    body = {"payment_id": payment_id, "out_refund_no": no, "amount": amount}
    refund = ok(shop.client.post("/v1/refunds", json=body), 201)
    tongbao.wechatpay_wait()
    assert ok(shop.client.get(f"/v1/refunds/{refund['id']}"))["status"] == "succeeded"


def _plans(admin: httpx.Client, own: WeChatMerchant, shared_account: str) -> None:
    ok(
        admin.post("/admin/v1/fee-plans", json={"method": "wechat_native", "rate_bps": "60", "minimum": 1}),
        201,
    )
    body = {"merchant_id": own.merchant_id, "method": "wechat_native", "rate_bps": 30}
    ok(admin.post("/admin/v1/fee-plans", json=body), 201)
    ok(admin.post(f"/admin/v1/channel-accounts/{shared_account}/cost-plans", json={"rate_bps": "25"}), 201)


@pytest.fixture
def own(tongbao: Stack, admin: httpx.Client) -> Iterator[WeChatMerchant]:
    """A merchant taking WeChat Pay through its own channel account."""
    made = wechat_merchant(tongbao, admin, mode="own")
    yield made
    made.client.close()


def test_a_mixed_day_is_in_the_journal_to_the_fen(
    tongbao: Stack, shop: WeChatMerchant, own: WeChatMerchant, admin: httpx.Client
) -> None:
    _plans(admin, own, shop.account_id)

    # P1 10000: fee 60, cost 25. Refund 3000 gives back fee 18 and cost 7.5 → 8; refund 7000
    # (the rest) gives back the rest: fee 42, cost 17. Nothing of P1 stays.
    p1 = _paid(tongbao, shop, 10_000)
    _refund(tongbao, shop, p1["id"], 3000, "p1-a")
    _refund(tongbao, shop, p1["id"], 7000, "p1-b")
    # P2 1234: fee 7.404 → 7, cost 3.085 → 3; refund 617 gives back fee 3.5 → 4, cost 1.5 → 2.
    # Pending: 1227 − 613 = 614.
    p2 = _paid(tongbao, shop, 1234)
    _refund(tongbao, shop, p2["id"], 617, "p2-a")
    # P3 1800 paid twice: the payment's fee 10.8 → 11 and cost 4.5 → 5; the duplicate's cost 5,
    # all of it given back with the duplicate. Pending 1789. Refund 900 of the payment (the payer
    # chose the method at the cashier): fee back 5.5 → 6, cost back 2.5 → 3; pending 1789 − 894 = 895.
    p3 = paid_twice(tongbao, shop, 1800)
    tongbao.run_jobs()  # the policy's refund of the second capture
    tongbao.wechatpay_wait()
    _refund(tongbao, shop, p3["id"], 900, "p3-a")
    # P4 1000 closed, then paid: reopened by the default policy. Cost 2.5 → 3, fee 6; pending 994.
    late = ok(shop.create_payment(amount=1000), 201)
    ok(shop.client.post(f"/v1/payments/{late['id']}/close"))
    assert send(tongbao, Scene(tongbao, admin, shop, late).genuine()).status_code == 204
    assert shop.payment(late["id"])["status"] == "succeeded"
    # P5 1234 paid 1200, accepted: cost 3, fee 7.2 → 7; pending 1193.
    p5, case5 = underpaid(tongbao, shop, admin)
    ok(decide(admin, case5["id"], "accept", "the bank confirmed 12.00"))
    # P6 1234 paid 1200, sent back: cost 3 charged and given back; nothing owed.
    p6, case6 = underpaid(tongbao, shop, admin)
    ok(decide(admin, case6["id"], "refund", "the payer paid the wrong amount"))
    tongbao.wechatpay_wait()
    assert ok(admin.get(f"/admin/v1/exception-cases/{case6['id']}"))["resolution"] == "refunded"
    # Own account: 2000 at 30 bps, fee 6 owed by the merchant; refund 1000 gives back 3.
    o1 = _paid(tongbao, own, 2000)
    _refund(tongbao, own, o1["id"], 1000, "o1-a")
    tongbao.run_jobs()
    fold_and_seal(tongbao)

    cur = "CNY"
    assert ok(shop.client.get("/v1/balance"))["balances"] == [
        {
            "currency": cur,
            "pending": 614 + 895 + 994 + 1193,
            "available": 0,
            "reserve": 0,
            "owed_to_platform": 0,
        }
    ]
    assert ok(own.client.get("/v1/balance"))["balances"] == [
        {"currency": cur, "pending": 0, "available": 0, "reserve": 0, "owed_to_platform": 3}
    ]
    # Fee revenue: P2 3, P3 5, P4 6, P5 7, own 3. Channel cost: P2 1, P3 2, P4 3, P5 3.
    assert balance(admin, f"platform:fee_revenue:{cur}") == 3 + 5 + 6 + 7 + 3
    assert balance(admin, f"platform:channel_cost:{cur}") == 1 + 2 + 3 + 3
    # The channel holds what was captured less what went back and its net cost:
    # (10000 + 1234 + 1800·2 + 1000 + 1200·2) − (3000 + 7000 + 617 + 1800 + 900 + 1200) − 9.
    receivable = (10_000 + 1234 + 3600 + 1000 + 2400) - (3000 + 7000 + 617 + 1800 + 900 + 1200) - 9
    assert balance(admin, f"channel:{shop.account_id}:channel_receivable:{cur}") == receivable
    for empty in ("suspense", "refunds_in_flight", "memo_suspense", "memo_refunds_in_flight"):
        assert balance(admin, f"platform:{empty}:{cur}") == 0
    # The own account's flow is in the memo book: 2000 in, 1000 back.
    assert balance(admin, f"channel:{own.account_id}:memo_channel:{cur}") == 1000
    assert balance(admin, f"merchant:{own.merchant_id}:memo_merchant:{cur}") == 1000

    lines = ok(shop.client.get("/v1/balance/transactions", params={"limit": 100}))["data"]
    by_payment: dict[str | None, list[tuple[str, int, int, int]]] = {}
    for line in reversed(lines):
        by_payment.setdefault(line["payment_id"], []).append(
            (line["type"], line["gross"], line["fee"], line["net"])
        )
    assert by_payment[p1["id"]] == [
        ("payment_captured", 10_000, 60, 9940),
        ("refund_reserved", -3000, -18, -2982),
        ("refund_reserved", -7000, -42, -6958),
    ]
    assert by_payment[p2["id"]] == [("payment_captured", 1234, 7, 1227), ("refund_reserved", -617, -4, -613)]
    assert by_payment[p3["id"]] == [("payment_captured", 1800, 11, 1789), ("refund_reserved", -900, -6, -894)]
    assert by_payment[late["id"]] == [("capture_taken", 1000, 6, 994)]
    assert by_payment[p5["id"]] == [("capture_taken", 1200, 7, 1193)]
    assert p6["id"] not in by_payment
    assert cases_of(admin, p6["id"])[0]["status"] == "resolved"

    code, report = cli_json(tongbao, "ledger", "check")
    assert (code, report["problems"]) == (0, [])
    code, verdict = cli_json(tongbao, "ledger", "verify")
    assert (code, verdict["problems"], verdict["sealed"]) == (0, [], report["entries"])
    assert verdict["head"] == ok(admin.get("/admin/v1/ledger/chain"))["hash"]
    code, recon = cli_json(tongbao, "recon", "internal", "--all")
    assert (code, recon["differences"], recon["payments"], recon["refunds"]) == (0, [], 6, 7)
