"""The Alipay adapter against the real simulator, over HTTP, mounted below a prefix.

The adapter's coroutines run on the server's event loop, where its HTTP client lives.
"""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.channels.alipay_env import (  # noqa: F401  (the fixtures register by import)
    Account,
    Env,
    account_fixture,
    clean_env,
    env_fixture,
    open_account,
    order_request,
)
from tongbao.channels.alipay import protocol
from tongbao.channels.base import (
    ChannelRejected,
    ChannelUnknownOutcome,
    Method,
    NotificationRejected,
    OrderAlreadyPaid,
    OrderState,
    Reply,
)
from tongbao.money import fen_to_yuan, yuan_to_fen
from tongbao.security import samples


def merchant_signed(account: Account, params: dict[str, str]) -> bool:
    return protocol.verify_params(account.merchant_key.public_key(), params)


# -- create ------------------------------------------------------------------------------------------


def test_qr_create_then_query_then_pay(account: Account) -> None:
    request = order_request(account)
    action = account.run(account.adapter.create(request))
    assert action.type == "qr_code" and action.data["qr_code"].startswith("https://qr.alipay.com/")
    assert account.run(account.adapter.create(request)) == action  # the same precreate again
    with pytest.raises(ChannelRejected) as raised:
        account.run(account.adapter.create(dataclasses.replace(request, amount=1)))
    assert raised.value.code == "ACQ.CONTEXT_INCONSISTENT"
    status = account.run(account.adapter.query(request.order_no))
    assert status.state is OrderState.NOT_PAID and status.amount is None
    record = account.pay(request.order_no)
    status = account.run(account.adapter.query(request.order_no))
    assert status.state is OrderState.SUCCEEDED
    assert (status.amount, status.currency, status.channel_trade_no) == (1234, "CNY", record["trade_no"])
    assert status.paid_at is not None and abs(status.paid_at - datetime.now(UTC)) < timedelta(seconds=10)


@pytest.mark.parametrize(
    ("method", "product_code"),
    [(Method.ALIPAY_PAGE, "FAST_INSTANT_TRADE_PAY"), (Method.ALIPAY_WAP, "QUICK_WAP_WAY")],
)
def test_page_and_wap_redirect_to_a_signed_gateway_url(
    account: Account, method: Method, product_code: str
) -> None:
    request = order_request(account, method, return_url="https://shop.example/back")
    action = account.run(account.adapter.create(request))
    assert action.type == "redirect"
    url = action.data["url"]
    assert url.startswith(account.env.gateway + "?")
    params = dict(parse_qsl(urlsplit(url).query))
    assert merchant_signed(account, params)
    assert not merchant_signed(account, {**params, "return_url": "https://evil.example/"})
    assert params["return_url"] == "https://shop.example/back" and params["sign_type"] == "RSA2"
    biz = json.loads(params["biz_content"])
    assert biz["product_code"] == product_code and biz["total_amount"] == "12.34"
    assert biz["out_trade_no"] == request.order_no
    with httpx.Client(timeout=10, trust_env=False) as http:
        page = http.get(url)
    assert page.status_code == 200 and "¥12.34" in page.text
    account.pay(request.order_no)
    assert account.run(account.adapter.query(request.order_no)).state is OrderState.SUCCEEDED


def test_app_order_string_is_signed_with_the_merchant_key(account: Account) -> None:
    action = account.run(account.adapter.create(order_request(account, Method.ALIPAY_APP)))
    assert action.type == "app"
    params = dict(parse_qsl(action.data["order_string"]))
    assert params["method"] == "alipay.trade.app.pay" and "return_url" not in params
    assert merchant_signed(account, params)
    assert not merchant_signed(account, {**params, "timestamp": "2020-01-01 00:00:00"})


# -- query and close ---------------------------------------------------------------------------------


def test_query_of_an_unknown_order_is_not_found_and_close_is_quiet(account: Account) -> None:
    assert account.run(account.adapter.query("TBnothing")).state is OrderState.NOT_FOUND
    assert account.run(account.adapter.close("TBnothing")) is None


def test_close_then_closed_and_close_of_a_paid_order(account: Account) -> None:
    open_request, paid_request = order_request(account), order_request(account)
    account.run(account.adapter.create(open_request))
    account.run(account.adapter.create(paid_request))
    account.run(account.adapter.close(open_request.order_no))
    assert account.run(account.adapter.query(open_request.order_no)).state is OrderState.CLOSED
    assert account.run(account.adapter.close(open_request.order_no)) is None  # closed twice: done
    account.pay(paid_request.order_no)
    with pytest.raises(OrderAlreadyPaid):
        account.run(account.adapter.close(paid_request.order_no))


def test_malformed_amount_in_a_query_is_unknown(account: Account) -> None:
    request = order_request(account)
    account.run(account.adapter.create(request))
    account.pay(request.order_no)
    account.env.faults({"endpoint": "query", "kind": "wrong_amount", "rate": 1.0, "delta": 1})
    assert account.run(account.adapter.query(request.order_no)).amount == 1235  # a wrong amount, well formed
    for bad in ("12.345", "-12.34", "+12.34", "12.3", "1e3"):
        with pytest.raises(ChannelUnknownOutcome):
            account.adapter._status(
                {"out_trade_no": "x", "trade_status": "TRADE_SUCCESS", "trade_no": "t", "total_amount": bad},
                "x",
                ChannelUnknownOutcome,
            )
    with pytest.raises(ChannelUnknownOutcome):
        account.adapter._status(
            {"out_trade_no": "x", "trade_status": "TRADE_PENDING"}, "x", ChannelUnknownOutcome
        )


# -- barcode -----------------------------------------------------------------------------------------


def test_barcode_immediate_waiting_then_paid_and_waiting_then_cancelled(account: Account) -> None:
    now = order_request(account, Method.ALIPAY_BARCODE, auth_code="281234567890123456")
    status = account.run(account.adapter.charge(now))
    assert status.state is OrderState.SUCCEEDED and status.amount == 1234 and status.channel_trade_no
    waiting = order_request(account, Method.ALIPAY_BARCODE, auth_code="261234567890123456")
    assert account.run(account.adapter.charge(waiting)).state is OrderState.PAYING
    assert account.run(account.adapter.query(waiting.order_no)).state is OrderState.NOT_PAID
    account.pay(waiting.order_no)
    assert account.run(account.adapter.query(waiting.order_no)).state is OrderState.SUCCEEDED
    given_up = order_request(account, Method.ALIPAY_BARCODE, auth_code="261234567890123499")
    assert account.run(account.adapter.charge(given_up)).state is OrderState.PAYING
    account.run(account.adapter.cancel(given_up.order_no))
    assert account.run(account.adapter.query(given_up.order_no)).state is OrderState.CLOSED
    assert account.run(account.adapter.cancel("TBnever")) is None


def test_barcode_refusals(account: Account) -> None:
    for code in ("12345", "181234567890123456", "28123456789012345a", None):
        with pytest.raises(ChannelRejected) as raised:
            account.run(account.adapter.charge(order_request(account, Method.ALIPAY_BARCODE, auth_code=code)))
        assert raised.value.code == "INVALID_AUTH_CODE"
    bad = order_request(account, Method.ALIPAY_BARCODE, auth_code="251234567890123456")
    with pytest.raises(ChannelRejected) as raised:
        account.run(account.adapter.charge(bad))
    assert raised.value.code == "ACQ.PAYMENT_AUTH_CODE_INVALID"


def test_a_processing_barcode_completes_after_queries(account: Account) -> None:
    account.env.faults({"endpoint": "pay", "kind": "processing", "rate": 1.0, "polls": 2})
    request = order_request(account, Method.ALIPAY_BARCODE, auth_code="281234567890123456")
    assert account.run(account.adapter.charge(request)).state is OrderState.PAYING
    assert account.run(account.adapter.query(request.order_no)).state is OrderState.NOT_PAID
    assert account.run(account.adapter.query(request.order_no)).state is OrderState.SUCCEEDED


# -- faults and signatures ---------------------------------------------------------------------------


def test_5xx_system_error_and_timeout_are_unknown(env: Env) -> None:
    account = open_account(env, timeout_s=0.5)
    request = order_request(account)
    env.faults({"endpoint": "create", "kind": "error_5xx", "rate": 1.0})
    with pytest.raises(ChannelUnknownOutcome) as raised:
        account.run(account.adapter.create(request))
    assert raised.value.code == "http_500"
    env.faults({"endpoint": "create", "kind": "system_error", "rate": 1.0})
    with pytest.raises(ChannelUnknownOutcome) as raised:
        account.run(account.adapter.create(request))
    assert raised.value.code == "isp.unknow-error"
    env.faults({"endpoint": "query", "kind": "timeout", "rate": 1.0, "hang_s": 2})
    with pytest.raises(ChannelUnknownOutcome) as raised:
        account.run(account.adapter.query(request.order_no))
    assert raised.value.code == "timeout"


def test_answers_signed_by_another_key_are_unknown(env: Env) -> None:
    account = open_account(env, alipay_key_pem=samples.public_pem(samples.new_rsa_key()))
    for coro in (account.adapter.create(order_request(account)), account.adapter.query("TBx")):
        with pytest.raises(ChannelUnknownOutcome) as raised:
            account.run(coro)
        assert raised.value.code == "bad_signature"


def test_a_tampered_answer_is_unknown(account: Account) -> None:
    key = samples.new_rsa_key()
    node = {"code": "10000", "msg": "Success", "out_trade_no": "TB1", "trade_status": "TRADE_SUCCESS"}
    forged = protocol.response_body(key, "alipay_trade_query_response", node).decode()
    with pytest.raises(ChannelUnknownOutcome):
        account.adapter._verified_node(forged, "alipay_trade_query_response")
    genuine = protocol.response_body(account.env.sim.key, "alipay_trade_query_response", node).decode()
    assert account.adapter._verified_node(genuine, "alipay_trade_query_response") == node
    tampered = genuine.replace("TRADE_SUCCESS", "TRADE_CLOSED")
    with pytest.raises(ChannelUnknownOutcome):
        account.adapter._verified_node(tampered, "alipay_trade_query_response")


# -- notifications -----------------------------------------------------------------------------------


def test_notifications_are_parsed_and_forgeries_rejected(account: Account) -> None:
    request = order_request(account)
    account.run(account.adapter.create(request))
    record = account.pay(request.order_no)
    body = account.env.notifications.wait_for(request.order_no)
    status = account.run(account.adapter.parse_notification({}, body))
    assert status.state is OrderState.SUCCEEDED and status.amount == 1234
    assert status.channel_trade_no == record["trade_no"] and status.order_no == request.order_no
    params = dict(parse_qsl(body.decode()))

    def rejected(changed: dict[str, str], code: str, key: Any = None) -> None:
        fields = {**params, **changed}
        if key is not None:
            fields = protocol.signed(key, fields, notification=True)
        with pytest.raises(NotificationRejected) as raised:
            account.run(account.adapter.parse_notification({}, urlencode(fields).encode()))
        assert raised.value.code == code

    rejected({"total_amount": "99.99"}, "bad_signature")
    rejected({"sign": ""}, "bad_signature")
    rejected({"total_amount": "99.99"}, "bad_signature", key=samples.new_rsa_key())
    sim_key = account.env.sim.key
    rejected({"app_id": "2021999999999999"}, "wrong_app_id", key=sim_key)
    rejected({"trade_status": "TRADE_PENDING"}, "unknown_trade_status", key=sim_key)
    rejected({"total_amount": "12.345"}, "bad_answer", key=sim_key)
    stale = {**params, "notify_time": "2001-01-01 00:00:00"}
    fresh = protocol.signed(sim_key, stale, notification=True)
    assert account.run(account.adapter.parse_notification({}, urlencode(fresh).encode())).amount == 1234
    closed = protocol.signed(sim_key, {**params, "trade_status": "TRADE_CLOSED"}, notification=True)
    assert (
        account.run(account.adapter.parse_notification({}, urlencode(closed).encode())).state
        is OrderState.CLOSED
    )


def test_reply_format(account: Account) -> None:
    assert account.adapter.reply(True) == Reply(200, b"success", "text/plain")
    assert account.adapter.reply(False, "bad") == Reply(400, b"fail", "text/plain")


@given(st.integers(min_value=0, max_value=10**17))
def test_amount_round_trip(fen: int) -> None:
    text = fen_to_yuan(fen)
    assert yuan_to_fen(text) == fen
    assert protocol.biz_json({"total_amount": text}) == f'{{"total_amount":"{text}"}}'
