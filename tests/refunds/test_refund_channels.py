"""Refunds through the merchant API on Alipay and UnionPay, against their simulators: several partial
refunds up to the captured total, the channel's unknown answers settled by the janitor, and a refund
the payer's bank cannot take surfaced to operators."""

from __future__ import annotations

from typing import Any

import httpx

from tests.refunds.support import event_types, refund
from tests.support.alipay import add_alipay, alipay_order, alipay_pay
from tests.support.factories import error_of, ok
from tests.support.receiver import Receiver
from tests.support.stack import Stack
from tests.support.unionpay import add_unionpay, unionpay_order_id
from tests.support.wechat import WeChatMerchant


def _alipay_paid(tongbao: Stack, admin: httpx.Client, shop: WeChatMerchant, amount: int) -> dict[str, Any]:
    add_alipay(tongbao, admin, shop)
    created = ok(shop.create_payment(method="alipay_qr", amount=amount), 201)
    alipay_pay(tongbao, qr_code=created["action"]["qr_code"])
    tongbao.alipay_wait()
    payment = shop.payment(created["id"])
    assert payment["status"] == "succeeded"
    return payment


def _unionpay_paid(tongbao: Stack, admin: httpx.Client, shop: WeChatMerchant, amount: int) -> dict[str, Any]:
    add_unionpay(tongbao, admin, shop)
    created = ok(shop.create_payment(method="unionpay_web", amount=amount), 201)
    action = created["action"]
    assert httpx.post(action["url"], data=action["fields"], timeout=10).status_code == 200
    order_id = unionpay_order_id(created["attempts"][0]["channel_order_no"])
    ok(httpx.post(f"{tongbao.unionpay_url}/_control/pay", json={"out_trade_no": order_id}, timeout=10))
    tongbao.unionpay_wait()
    payment = shop.payment(created["id"])
    assert payment["status"] == "succeeded"
    return payment


def _faults(url: str, *rules: dict[str, Any]) -> None:
    ok(httpx.put(f"{url}/_control/faults", json={"seed": 7, "rules": list(rules)}, timeout=10))


def _status(shop: WeChatMerchant, refund_id: str) -> str:
    return str(ok(shop.client.get(f"/v1/refunds/{refund_id}"))["status"])


def test_alipay_partial_refunds_up_to_the_total_each_notified_once(
    tongbao: Stack, admin: httpx.Client, shop: WeChatMerchant, receiver: Receiver
) -> None:
    payment = _alipay_paid(tongbao, admin, shop, amount=999)
    # Alipay refunds at once: the answer to the request is already final.
    first = ok(refund(shop, payment["id"], 333, reason="damaged"), 201)
    assert first["status"] == "succeeded"
    second = ok(refund(shop, payment["id"], 666), 201)
    assert second["status"] == "succeeded"
    assert error_of(refund(shop, payment["id"], 1), 409)["code"] == "refund_exceeds_remaining"
    final = shop.payment(payment["id"])
    assert (final["status"], final["refunded_amount"]) == ("refunded", 999)
    order_no = final["attempts"][0]["channel_order_no"]
    trade = ok(alipay_order(tongbao, order_no))
    assert sorted((r["refund_no"], r["amount"], r["status"]) for r in trade["refunds"]) == sorted(
        [(first["id"], 333, "REFUND_SUCCESS"), (second["id"], 666, "REFUND_SUCCESS")]
    )
    tongbao.run_jobs()
    assert event_types(shop, payment["id"]) == ["payment.succeeded", "refund.succeeded", "refund.succeeded"]
    tongbao.run_jobs()
    assert len(receiver.wait_for(3)) == 3


def test_an_alipay_refund_that_times_out_is_found_by_the_janitor(
    tongbao: Stack, admin: httpx.Client, shop: WeChatMerchant
) -> None:
    payment = _alipay_paid(tongbao, admin, shop, amount=500)
    _faults(tongbao.alipay_url, {"endpoint": "refund", "kind": "timeout", "rate": 1.0, "hang_s": 5})
    created = ok(refund(shop, payment["id"], 120), 201)
    assert created["status"] == "pending"
    ok(httpx.delete(f"{tongbao.alipay_url}/_control/faults", timeout=10))
    tongbao.clock.advance(61)
    tongbao.run_jobs()  # alipay.trade.fastpay.refund.query finds it done
    assert _status(shop, created["id"]) == "succeeded"
    assert shop.payment(payment["id"])["refunded_amount"] == 120
    trade = ok(alipay_order(tongbao, payment["attempts"][0]["channel_order_no"]))
    assert [r["refund_no"] for r in trade["refunds"]] == [created["id"]]


def test_an_alipay_refund_to_a_closed_account_fails_with_the_channels_reason(
    tongbao: Stack, admin: httpx.Client, shop: WeChatMerchant
) -> None:
    payment = _alipay_paid(tongbao, admin, shop, amount=500)
    _faults(tongbao.alipay_url, {"endpoint": "refund", "kind": "abnormal", "rate": 1.0})
    created = ok(refund(shop, payment["id"], 500), 201)
    assert created["status"] == "failed" and created["failure_reason"]
    assert shop.payment(payment["id"])["refunded_amount"] == 0
    cases = ok(admin.get("/admin/v1/exception-cases", params={"payment_id": payment["id"]}))["data"]
    assert [(c["kind"], c["status"]) for c in cases] == [("refund_failed", "open")]


def test_unionpay_partial_refunds_settle_by_notify_each_notified_once(
    tongbao: Stack, admin: httpx.Client, shop: WeChatMerchant, receiver: Receiver
) -> None:
    payment = _unionpay_paid(tongbao, admin, shop, amount=5000)
    # UnionPay accepts a refund (respCode 00) and tells the result later, by a back notify.
    first = ok(refund(shop, payment["id"], 1000), 201)
    assert first["status"] == "pending"
    tongbao.unionpay_wait()
    assert _status(shop, first["id"]) == "succeeded"
    second = ok(refund(shop, payment["id"], 4000), 201)
    assert error_of(refund(shop, payment["id"], 1), 409)["code"] == "refund_exceeds_remaining"
    tongbao.unionpay_wait()
    assert _status(shop, second["id"]) == "succeeded"
    final = shop.payment(payment["id"])
    assert (final["status"], final["refunded_amount"]) == ("refunded", 5000)
    order_id = unionpay_order_id(final["attempts"][0]["channel_order_no"])
    order = ok(httpx.get(f"{tongbao.unionpay_url}/_control/orders/{order_id}", timeout=10))
    assert sorted((r["refund_no"], r["status"]) for r in order["refunds"]) == sorted(
        [(unionpay_order_id(first["id"]), "SUCCESS"), (unionpay_order_id(second["id"]), "SUCCESS")]
    )
    tongbao.run_jobs()
    assert event_types(shop, payment["id"]) == ["payment.succeeded", "refund.succeeded", "refund.succeeded"]
    tongbao.run_jobs()
    assert len(receiver.wait_for(3)) == 3


def test_a_unionpay_refund_whose_notify_is_lost_is_settled_by_the_janitors_query(
    tongbao: Stack, admin: httpx.Client, shop: WeChatMerchant
) -> None:
    payment = _unionpay_paid(tongbao, admin, shop, amount=800)
    _faults(tongbao.unionpay_url, {"endpoint": "refund_callback", "kind": "lost", "rate": 1.0})
    created = ok(refund(shop, payment["id"], 300), 201)
    tongbao.unionpay_wait()
    assert _status(shop, created["id"]) == "pending"
    tongbao.clock.advance(61)
    tongbao.run_jobs()
    assert _status(shop, created["id"]) == "succeeded"
    assert shop.payment(payment["id"])["status"] == "refunded_partially"


def test_a_unionpay_refund_to_a_closed_card_fails_and_operators_see_why(
    tongbao: Stack, admin: httpx.Client, shop: WeChatMerchant
) -> None:
    payment = _unionpay_paid(tongbao, admin, shop, amount=800)
    _faults(tongbao.unionpay_url, {"endpoint": "refund", "kind": "abnormal", "rate": 1.0})
    created = ok(refund(shop, payment["id"], 800), 201)
    tongbao.unionpay_wait()
    failed = ok(shop.client.get(f"/v1/refunds/{created['id']}"))
    assert failed["status"] == "failed" and "respCode 63" in failed["failure_reason"]
    cases = ok(admin.get("/admin/v1/exception-cases", params={"payment_id": payment["id"]}))["data"]
    assert [(c["kind"], c["refund_id"]) for c in cases] == [("refund_failed", created["id"])]
