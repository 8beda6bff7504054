"""Refund requests that must be refused: each with a clear code and the field at fault, and nothing
written, sent to the channel or notified because of it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.refunds.support import event_types, paid, refund
from tests.support.factories import error_of, ok
from tests.support.receiver import Receiver
from tests.support.stack import Stack
from tests.support.wechat import WeChatMerchant, sim_order, wechat_merchant


@pytest.fixture
def rival(tongbao: Stack, admin: httpx.Client, receiver: Receiver) -> Iterator[WeChatMerchant]:
    made = wechat_merchant(tongbao, admin, notify_url=receiver.url)
    yield made
    made.client.close()


def _untouched(tongbao: Stack, shop: WeChatMerchant, payment: dict[str, Any]) -> None:
    after = shop.payment(payment["id"])
    assert (after["status"], after["refunded_amount"], after["refunds"]) == (payment["status"], 0, [])
    if payment["captured_attempt_id"]:
        assert sim_order(tongbao, payment["captured_attempt_id"])["refunds"] == []
    tongbao.run_jobs()
    assert "refund.succeeded" not in event_types(shop, payment["id"])


@pytest.mark.parametrize(
    ("amount", "code"),
    [
        (0, "amount_invalid"),
        (-1, "amount_invalid"),
        ("100", "amount_invalid"),
        (1.5, "amount_invalid"),
        (True, "amount_invalid"),
        (None, "amount_invalid"),
    ],
)
def test_an_amount_that_is_not_a_positive_number_of_fen_is_refused(
    tongbao: Stack, shop: WeChatMerchant, amount: Any, code: str
) -> None:
    payment = paid(tongbao, shop, amount=300)
    error = error_of(refund(shop, payment["id"], amount), 400)
    assert (error["code"], error["param"]) == (code, "amount")
    _untouched(tongbao, shop, payment)


def test_more_than_was_captured_is_refused_with_what_is_left(tongbao: Stack, shop: WeChatMerchant) -> None:
    payment = paid(tongbao, shop, amount=300)
    error = error_of(refund(shop, payment["id"], 301), 409)
    assert (error["code"], error["param"]) == ("refund_exceeds_remaining", "amount")
    assert "at most 300" in error["message"]
    _untouched(tongbao, shop, payment)


def test_unpaid_closed_and_unknown_payments_cannot_be_refunded(tongbao: Stack, shop: WeChatMerchant) -> None:
    unpaid = ok(shop.create_payment(amount=500), 201)
    error = error_of(refund(shop, unpaid["id"], 100), 409)
    assert (error["code"], error["param"]) == ("payment_not_refundable", "payment_id")
    assert "pending" in error["message"]
    closed = ok(shop.create_payment(amount=500), 201)
    ok(shop.client.post(f"/v1/payments/{closed['id']}/close"))
    error = error_of(refund(shop, closed["id"], 100), 409)
    assert (error["code"], error["param"]) == ("payment_not_refundable", "payment_id")
    for payment in (unpaid, closed):
        assert shop.payment(payment["id"])["refunds"] == []
    unknown = error_of(refund(shop, "pay_00000000000000000000000000", 100), 404)
    assert (unknown["code"], unknown["param"]) == ("payment_not_found", "payment_id")
    body = {"out_trade_no": "no-such-order", "out_refund_no": "r-1", "amount": 100}
    by_number = error_of(shop.client.post("/v1/refunds", json=body), 404)
    assert (by_number["code"], by_number["param"]) == ("payment_not_found", "out_trade_no")


def test_another_merchants_payment_is_not_found_and_nothing_of_it_is_revealed(
    tongbao: Stack, shop: WeChatMerchant, rival: WeChatMerchant
) -> None:
    payment = paid(tongbao, shop, amount=4321)
    response = refund(rival, payment["id"], 100)
    error = error_of(response, 404)
    assert (error["code"], error["param"]) == ("payment_not_found", "payment_id")
    for secret in (payment["out_trade_no"], "4321", shop.merchant_id):
        assert secret not in response.text
    by_number = {"out_trade_no": payment["out_trade_no"], "out_refund_no": "r-2", "amount": 100}
    assert error_of(rival.client.post("/v1/refunds", json=by_number), 404)["code"] == "payment_not_found"
    # Nor can a rival look at a refund of it, by id or by number.
    made = ok(refund(shop, payment["id"], 100, out_refund_no="mine-1"), 201)
    assert error_of(rival.client.get(f"/v1/refunds/{made['id']}"), 404)["code"] == "refund_not_found"
    lookup = rival.client.get("/v1/refunds", params={"out_refund_no": "mine-1"})
    assert error_of(lookup, 404)["code"] == "refund_not_found"
    tongbao.wechatpay_wait()
    assert shop.payment(payment["id"])["refunded_amount"] == 100


def test_an_out_refund_no_reused_with_other_parameters_is_a_conflict(
    tongbao: Stack, shop: WeChatMerchant
) -> None:
    payment = paid(tongbao, shop, amount=1000)
    first = ok(refund(shop, payment["id"], 100, out_refund_no="again-1", reason="late"), 201)
    for changed in ({"amount": 200}, {"reason": "other"}, {"notify_url": "https://shop.example/n"}):
        body = {"payment_id": payment["id"], "out_refund_no": "again-1", "amount": 100, "reason": "late"}
        error = error_of(shop.client.post("/v1/refunds", json={**body, **changed}), 409)
        assert (error["code"], error["param"]) == ("out_refund_no_reused", "out_refund_no"), changed
    other = paid(tongbao, shop, amount=1000)
    body = {"payment_id": other["id"], "out_refund_no": "again-1", "amount": 100, "reason": "late"}
    assert error_of(shop.client.post("/v1/refunds", json=body), 409)["code"] == "out_refund_no_reused"
    # The same request again is answered with the refund it made, not a second one.
    same = ok(refund(shop, payment["id"], 100, out_refund_no="again-1", reason="late"), 200)
    assert same["id"] == first["id"]
    tongbao.wechatpay_wait()
    assert [r["amount"] for r in shop.payment(payment["id"])["refunds"]] == [100]
    assert shop.payment(other["id"])["refunds"] == []


@pytest.mark.parametrize(
    ("body", "code", "param"),
    [
        ({"out_refund_no": "x", "amount": 1}, "parameter_missing", "payment_id"),
        (
            {"payment_id": "P", "out_trade_no": "o", "out_refund_no": "x", "amount": 1},
            "parameter_invalid",
            "payment_id",
        ),
        ({"payment_id": "P", "amount": 1}, "parameter_missing", "out_refund_no"),
        (
            {"payment_id": "P", "out_refund_no": "has space", "amount": 1},
            "parameter_invalid",
            "out_refund_no",
        ),
        ({"payment_id": "P", "out_refund_no": "x" * 65, "amount": 1}, "parameter_invalid", "out_refund_no"),
        ({"payment_id": "P", "out_refund_no": "x"}, "parameter_missing", "amount"),
        (
            {"payment_id": "P", "out_refund_no": "x", "amount": 1, "reason": "r" * 81},
            "parameter_invalid",
            "reason",
        ),
        (
            {"payment_id": "P", "out_refund_no": "x", "amount": 1, "notify_url": "ftp://x"},
            "parameter_invalid",
            "notify_url",
        ),
        (
            {"payment_id": "P", "out_refund_no": "x", "amount": 1, "currency": "USD"},
            "parameter_unknown",
            "currency",
        ),
    ],
)
def test_malformed_requests_name_the_field_at_fault(
    tongbao: Stack, shop: WeChatMerchant, body: dict[str, Any], code: str, param: str
) -> None:
    payment = paid(tongbao, shop, amount=300)
    if body.get("payment_id") == "P":
        body = {**body, "payment_id": payment["id"]}
    error = error_of(shop.client.post("/v1/refunds", json=body), 400)
    assert (error["code"], error["param"]) == (code, param)
    _untouched(tongbao, shop, payment)


def test_a_refund_after_the_channels_window_is_refused(tongbao: Stack, shop: WeChatMerchant) -> None:
    payment = paid(tongbao, shop, amount=300)
    tongbao.clock.advance(366 * 24 * 3600)
    error = error_of(refund(shop, payment["id"], 100), 409)
    assert (error["code"], error["param"]) == ("refund_window_closed", "payment_id")
    assert "365 days" in error["message"]
    _untouched(tongbao, shop, payment)
