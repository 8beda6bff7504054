"""Alipay refunds through the adapter against the real simulator, over HTTP, mounted below a prefix."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlencode

import pytest

from tests.channels.alipay_env import (  # noqa: F401  (the fixtures register by import)
    Account,
    Env,
    account_fixture,
    clean_env,
    env_fixture,
    open_account,
    order_request,
)
from tongbao.channels.alipay import protocol, refunds
from tongbao.channels.base import (
    ChannelRejected,
    ChannelUnknownOutcome,
    Method,
    NotificationRejected,
    OrderRequest,
    OrderState,
    RefundRequest,
    RefundState,
)
from tongbao.ids import new_id
from tongbao.security import samples


def paid_order(account: Account, amount: int = 1234) -> tuple[OrderRequest, str]:
    order = order_request(account, amount=amount)
    account.run(account.adapter.create(order))
    return order, account.pay(order.order_no)["trade_no"]


def refund_request(order: OrderRequest, amount: int, **changes: Any) -> RefundRequest:
    request = RefundRequest(
        refund_no=new_id("refund"),
        order_no=order.order_no,
        channel_trade_no=None,
        amount=amount,
        order_amount=order.amount,
        currency="CNY",
        notify_url="https://tongbao.example/callbacks/alipay/ca_1/refunds",
        reason="顾客退货",
    )
    return dataclasses.replace(request, **changes)


def record(account: Account, order_no: str) -> dict[str, Any]:
    response = account.control("GET", f"/orders/{order_no}", params={"app_id": account.app_id})
    assert response.status_code == 200, response.text
    return dict(response.json())


def near_now(moment: datetime | None) -> bool:
    return moment is not None and abs(moment - datetime.now(UTC)) < timedelta(seconds=10)


# -- refunds -----------------------------------------------------------------------------------------


def test_a_full_refund_succeeds_at_once(account: Account) -> None:
    order, trade_no = paid_order(account)
    request = refund_request(order, 1234)
    result = account.run(account.adapter.refund(request))
    assert result.state is RefundState.SUCCEEDED and result.refund_no == request.refund_no
    assert (result.amount, result.channel_refund_no) == (1234, trade_no)
    assert near_now(result.refunded_at) and result.raw["fund_change"] == "Y"
    [entry] = record(account, order.order_no)["refunds"]
    assert entry["refund_no"] == request.refund_no and entry["amount"] == 1234  # the rfd_ id as it is
    found = account.run(account.adapter.query_refund(request))
    assert found.state is RefundState.SUCCEEDED and found.amount == 1234 and near_now(found.refunded_at)
    assert found.refunded_at == result.refunded_at and found.channel_refund_no == trade_no
    # Refunded in full, the trade is closed: the payment query still decodes it.
    assert account.run(account.adapter.query(order.order_no)).state is OrderState.CLOSED


def test_partial_refunds_up_to_the_total_then_refused(account: Account) -> None:
    order, _ = paid_order(account, 1000)
    for amount in (300, 300):
        assert account.run(account.adapter.refund(refund_request(order, amount))).amount == amount
    with pytest.raises(ChannelRejected) as raised:
        account.run(account.adapter.refund(refund_request(order, 401)))
    assert raised.value.code == "ACQ.REASON_TRADE_REFUND_FEE_ERR" and raised.value.message == "退款金额无效"
    last = account.run(account.adapter.refund(refund_request(order, 400)))
    assert last.state is RefundState.SUCCEEDED
    with pytest.raises(ChannelRejected) as raised:
        account.run(account.adapter.refund(refund_request(order, 1)))
    assert raised.value.code == "ACQ.TRADE_HAS_CLOSE"
    assert record(account, order.order_no)["refunded_amount"] == 1000


def test_submitting_the_same_refund_again_is_the_same_refund(account: Account) -> None:
    order, _ = paid_order(account)
    request = refund_request(order, 500)
    first = account.run(account.adapter.refund(request))
    again = account.run(account.adapter.refund(request))
    assert again.state is RefundState.SUCCEEDED and again.raw["refund_status"] == "REFUND_SUCCESS"
    assert (again.amount, again.refunded_at) == (first.amount, first.refunded_at)
    seen = record(account, order.order_no)
    assert len(seen["refunds"]) == 1 and seen["refunded_amount"] == 500


def test_refunds_of_unpaid_or_unknown_orders_are_refused(account: Account) -> None:
    unpaid = order_request(account)
    account.run(account.adapter.create(unpaid))
    with pytest.raises(ChannelRejected) as raised:
        account.run(account.adapter.refund(refund_request(unpaid, 100)))
    assert raised.value.code == "ACQ.TRADE_STATUS_ERROR"
    with pytest.raises(ChannelRejected) as raised:
        account.run(account.adapter.refund(refund_request(order_request(account), 100)))
    assert raised.value.code == "ACQ.TRADE_NOT_EXIST"
    with pytest.raises(ChannelRejected) as raised:
        account.run(account.adapter.refund(refund_request(unpaid, 100, currency="USD")))
    assert raised.value.code == "CURRENCY_UNSUPPORTED"


def test_query_of_an_unknown_refund_is_not_found(account: Account) -> None:
    order, _ = paid_order(account)
    unknown = account.run(account.adapter.query_refund(refund_request(order, 100)))
    assert unknown.state is RefundState.NOT_FOUND
    no_trade = account.run(account.adapter.query_refund(refund_request(order_request(account), 100)))
    assert no_trade.state is RefundState.NOT_FOUND


# -- unknown outcomes --------------------------------------------------------------------------------


def test_timeouts_are_unknown_and_the_query_shows_the_truth(env: Env) -> None:
    account = open_account(env, timeout_s=0.5)
    order, _ = paid_order(account)
    applied, dropped = refund_request(order, 100), refund_request(order, 200)
    env.faults({"endpoint": "refund", "kind": "timeout", "rate": 1.0, "hang_s": 2})
    with pytest.raises(ChannelUnknownOutcome) as raised:
        account.run(account.adapter.refund(applied))
    assert raised.value.code == "timeout"
    env.faults({"endpoint": "refund", "kind": "timeout", "rate": 1.0, "hang_s": 2, "before": True})
    with pytest.raises(ChannelUnknownOutcome):
        account.run(account.adapter.refund(dropped))
    env.faults()
    assert account.run(account.adapter.query_refund(applied)).state is RefundState.SUCCEEDED
    assert account.run(account.adapter.query_refund(dropped)).state is RefundState.NOT_FOUND
    assert account.run(account.adapter.refund(dropped)).state is RefundState.SUCCEEDED  # safe to resend
    env.faults({"endpoint": "refund_query", "kind": "timeout", "rate": 1.0, "hang_s": 2})
    with pytest.raises(ChannelUnknownOutcome):
        account.run(account.adapter.query_refund(applied))
    assert record(account, order.order_no)["refunded_amount"] == 300


def test_5xx_and_system_error_are_unknown(env: Env) -> None:
    account = open_account(env)
    order, _ = paid_order(account)
    untouched, applied = refund_request(order, 100), refund_request(order, 200)
    env.faults({"endpoint": "refund", "kind": "error_5xx", "rate": 1.0})
    with pytest.raises(ChannelUnknownOutcome) as raised:
        account.run(account.adapter.refund(untouched))
    assert raised.value.code == "http_500"
    env.faults({"endpoint": "refund", "kind": "system_error", "rate": 1.0})
    with pytest.raises(ChannelUnknownOutcome) as raised:
        account.run(account.adapter.refund(applied))
    assert raised.value.code == "isp.unknow-error"
    env.faults({"endpoint": "refund_query", "kind": "error_5xx", "rate": 1.0})
    with pytest.raises(ChannelUnknownOutcome):
        account.run(account.adapter.query_refund(applied))
    env.faults()
    assert account.run(account.adapter.query_refund(untouched)).state is RefundState.NOT_FOUND
    assert account.run(account.adapter.query_refund(applied)).state is RefundState.SUCCEEDED


def test_answers_signed_by_another_key_are_unknown(env: Env) -> None:
    account = open_account(env, alipay_key_pem=samples.public_pem(samples.new_rsa_key()))
    request = refund_request(order_request(account), 100)
    for coro in (account.adapter.refund(request), account.adapter.query_refund(request)):
        with pytest.raises(ChannelUnknownOutcome) as raised:
            account.run(coro)
        assert raised.value.code == "bad_signature"


# -- processing and abnormal -------------------------------------------------------------------------


def test_processing_then_success_on_query(account: Account) -> None:
    order, _ = paid_order(account)
    request = refund_request(order, 600)
    account.env.faults({"endpoint": "refund", "kind": "processing", "rate": 1.0, "polls": 3})
    submitted = account.run(account.adapter.refund(request))
    assert submitted.state is RefundState.PROCESSING and submitted.raw["fund_change"] == "N"
    for _ in range(2):
        assert account.run(account.adapter.query_refund(request)).state is RefundState.PROCESSING
    done = account.run(account.adapter.query_refund(request))
    assert done.state is RefundState.SUCCEEDED and done.amount == 600 and near_now(done.refunded_at)
    assert record(account, order.order_no)["refunds"][0]["status"] == "REFUND_SUCCESS"


def test_abnormal_is_a_refusal_in_alipays_words(account: Account) -> None:
    order, _ = paid_order(account)
    request = refund_request(order, 100)
    account.env.faults({"endpoint": "refund", "kind": "abnormal", "rate": 1.0})
    with pytest.raises(ChannelRejected) as raised:
        account.run(account.adapter.refund(request))
    assert (raised.value.code, raised.value.message) == (
        "ACQ.CUSTOMER_VALIDATE_ERROR",
        "账户已注销或者被冻结",
    )
    account.env.faults()
    # Alipay keeps nothing of a refused request; asking again meets the same closed account.
    assert account.run(account.adapter.query_refund(request)).state is RefundState.NOT_FOUND
    with pytest.raises(ChannelRejected):
        account.run(account.adapter.refund(request))


def test_a_processing_refund_that_fails_later_is_failed_with_the_reason(account: Account) -> None:
    order, _ = paid_order(account)
    request = refund_request(order, 100)
    account.env.faults({"endpoint": "refund", "kind": "processing", "rate": 1.0, "polls": 5})
    assert account.run(account.adapter.refund(request)).state is RefundState.PROCESSING
    body = {"refund_no": request.refund_no, "outcome": "abnormal", "out_trade_no": order.order_no}
    assert account.control("POST", "/refunds/settle", json=body).status_code == 200
    failed = account.run(account.adapter.query_refund(request))
    assert failed.state is RefundState.FAILED
    assert failed.failure_reason == "REFUND_FAIL: ACQ.CUSTOMER_VALIDATE_ERROR"
    with pytest.raises(ChannelRejected) as raised:  # sent again, Alipay tries once more: still closed
        account.run(account.adapter.refund(request))
    assert raised.value.code == "ACQ.CUSTOMER_VALIDATE_ERROR"


# -- what the answers may say ------------------------------------------------------------------------


def test_malformed_or_foreign_answers_are_unknown() -> None:
    order = OrderRequest(
        order_no="TB1",
        method=Method.ALIPAY_QR,
        amount=1000,
        currency="CNY",
        subject="s",
        notify_url="https://x",
        expires_at=datetime.now(UTC),
    )
    request = refund_request(order, 100)
    named = {"code": "10000", "out_trade_no": "TB1", "out_request_no": request.refund_no}
    for node in (
        {**named, "refund_status": "REFUND_SUCCESS", "refund_amount": "1.0"},
        {**named, "refund_status": "REFUND_SUCCESS"},
        {**named, "refund_status": "REFUND_SUCCESS", "refund_amount": "1.00", "gmt_refund_pay": "today"},
        {**named, "refund_status": "REFUND_SOMETHING", "refund_amount": "1.00"},
        {**named, "out_request_no": "rfd_other", "refund_amount": "1.00"},
        {**named, "out_trade_no": "TB2", "refund_amount": "1.00"},
    ):
        with pytest.raises(ChannelUnknownOutcome):
            refunds.queried(node, request)
    assert refunds.queried({"code": "10000", "msg": "Success"}, request).state is RefundState.NOT_FOUND
    held = refunds.queried({**named, "refund_amount": "1.00"}, request)
    assert held.state is RefundState.PROCESSING and held.amount == 100
    for sub_code in ("ACQ.SYSTEM_ERROR", "ACQ.REFUND_CHARGE_ERROR", "ACQ.DISCORDANT_REPEAT_REQUEST", "X.NEW"):
        node = {"code": "40004", "sub_code": sub_code, "sub_msg": "m"}
        assert isinstance(refunds.refusal(node, refunds.REFUSALS), ChannelUnknownOutcome)
    balance = {"code": "40004", "sub_code": "ACQ.SELLER_BALANCE_NOT_ENOUGH", "sub_msg": "卖家余额不足"}
    assert isinstance(refunds.refusal(balance, refunds.REFUSALS), ChannelRejected)
    with pytest.raises(ChannelUnknownOutcome):
        refunds.submitted(
            {"code": "10000", "out_trade_no": "TB1", "refund_fee": "x", "fund_change": "Y"}, request
        )


# -- notifications -----------------------------------------------------------------------------------


def test_refund_notifications_are_never_believed(account: Account) -> None:
    order, _ = paid_order(account)
    genuine = account.env.notifications.wait_for(order.order_no)
    forged = protocol.signed(samples.new_rsa_key(), dict(parse_qsl(genuine.decode())), notification=True)
    for body in (genuine, urlencode(forged).encode(), b"", b"refund_status=REFUND_SUCCESS"):
        with pytest.raises(NotificationRejected) as raised:
            account.run(account.adapter.parse_refund_notification({}, body))
        assert raised.value.code == "not_supported"


def test_payment_notifications_after_refunds_still_decode(account: Account) -> None:
    order, trade_no = paid_order(account)
    params = dict(parse_qsl(account.env.notifications.wait_for(order.order_no).decode()))
    key = account.env.sim.key
    partial = {**params, "refund_fee": "2.00", "gmt_refund": "2026-01-02 03:04:05.678", "out_biz_no": "rfd_1"}
    status = account.run(
        account.adapter.parse_notification(
            {}, urlencode(protocol.signed(key, partial, notification=True)).encode()
        )
    )
    assert (
        status.state is OrderState.SUCCEEDED and status.amount == 1234 and status.channel_trade_no == trade_no
    )
    assert status.raw["refund_fee"] == "2.00"
    full = {
        **partial,
        "trade_status": "TRADE_CLOSED",
        "refund_fee": "12.34",
        "gmt_close": "2026-01-02 03:04:05",
    }
    closed = account.run(
        account.adapter.parse_notification(
            {}, urlencode(protocol.signed(key, full, notification=True)).encode()
        )
    )
    assert closed.state is OrderState.CLOSED and closed.raw["refund_fee"] == "12.34"
    tampered = urlencode({**protocol.signed(key, full, notification=True), "refund_fee": "0.01"}).encode()
    with pytest.raises(NotificationRejected):
        account.run(account.adapter.parse_notification({}, tampered))
