"""The WeChat Pay adapter against the real simulator, over HTTP.

The simulator is mounted below a prefix, so every request is signed over the path below it (as the
real channel sees it) and every answer is verified with the platform key. The adapter's coroutines
run on the server's event loop, where its HTTP client lives.
"""

from __future__ import annotations

import dataclasses
import json
import secrets
import time
from collections.abc import Coroutine
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.channels.wechatpay_env import (  # noqa: F401  (the fixtures register by import)
    Account,
    Captured,
    Env,
    account_fixture,
    clean_env,
    create,
    env_fixture,
    new_order_no,
    open_account,
    order_request,
    stranger_key,
)
from tongbao.channels.base import (
    ChannelRejected,
    ChannelUnknownOutcome,
    Method,
    NotificationRejected,
    OrderAlreadyPaid,
    OrderState,
    OrderStatus,
)
from tongbao.channels.wechatpay import protocol
from tongbao.channels.wechatpay.platform_keys import CertificateCache
from tongbao.security import samples
from tongbao.simulators.wechatpay.state_models import Order


def merchant_signed(account: Account, signature: str, *parts: str) -> bool:
    return protocol.verify(account.key.public_key(), protocol.message(*parts), signature)


# -- create ------------------------------------------------------------------------------------------


def test_native_create_returns_a_qr_code(account: Account) -> None:
    order_no, action = create(account, Method.WECHAT_NATIVE)
    assert action.type == "qr_code"
    assert set(action.data) == {"code_url"}
    assert action.data["code_url"].startswith("weixin://wxpay/bizpayurl?pr=")
    assert action.data["code_url"] == account.order(order_no).code_url


def test_h5_create_returns_a_redirect_to_the_payer_page_below_the_prefix(account: Account) -> None:
    order_no, action = create(account, Method.WECHAT_H5)
    assert action.type == "redirect"
    order = account.order(order_no)
    assert action.data == {"url": f"{account.env.base_url}/_control/payer?prepay_id={order.prepay_id}"}
    assert order.trade_type == "MWEB"


def test_jsapi_create_returns_a_pay_sign_made_with_the_merchant_key(account: Account) -> None:
    order_no, action = create(account, Method.WECHAT_JSAPI)
    assert action.type == "jsapi"
    data = dict(action.data)
    order = account.order(order_no)
    assert data["appId"] == account.appid
    assert data["package"] == f"prepay_id={order.prepay_id}"
    assert data["signType"] == "RSA"
    assert abs(int(data["timeStamp"]) - time.time()) < 10
    assert len(data["nonceStr"]) == 32
    parts = (data["appId"], data["timeStamp"], data["nonceStr"], data["package"])
    assert merchant_signed(account, data["paySign"], *parts)
    assert not merchant_signed(account, data["paySign"], *parts[:3], "prepay_id=wx-someone-else")
    assert order.payer_openid == "oTongbaoTestPayer000000000001"


def test_app_create_returns_a_sign_made_with_the_merchant_key(account: Account) -> None:
    order_no, action = create(account, Method.WECHAT_APP)
    assert action.type == "app"
    data = dict(action.data)
    order = account.order(order_no)
    assert data["appid"] == account.appid
    assert data["partnerid"] == account.mchid
    assert data["prepayid"] == order.prepay_id
    assert data["package"] == "Sign=WXPay"
    parts = (data["appid"], data["timestamp"], data["noncestr"], data["prepayid"])
    assert merchant_signed(account, data["sign"], *parts)
    assert not merchant_signed(account, data["sign"], *parts[:2], "another-nonce", data["prepayid"])


def test_the_same_create_again_gives_the_same_action(account: Account) -> None:
    request = order_request(account.env)
    first = account.run(account.adapter.create(request))
    again = account.run(account.adapter.create(request))
    assert again == first


def test_reusing_an_order_number_with_other_parameters_is_rejected(account: Account) -> None:
    request = order_request(account.env)
    account.run(account.adapter.create(request))
    with pytest.raises(ChannelRejected) as raised:
        account.run(account.adapter.create(dataclasses.replace(request, amount=request.amount + 1)))
    assert raised.value.code == "OUT_TRADE_NO_USED"
    assert not isinstance(raised.value, OrderAlreadyPaid)
    assert account.order(request.order_no).total == request.amount


# -- query -------------------------------------------------------------------------------------------


def test_query_reports_not_paid_then_the_payment(account: Account) -> None:
    order_no, _ = create(account)
    before = account.run(account.adapter.query(order_no))
    assert (before.order_no, before.state, before.channel_trade_no) == (order_no, OrderState.NOT_PAID, None)
    assert before.amount is None and before.paid_at is None

    paid = account.pay(order_no)
    status = account.run(account.adapter.query(order_no))
    assert status.state is OrderState.SUCCEEDED
    assert status.order_no == order_no
    assert status.channel_trade_no == paid.transaction_id
    assert (status.amount, status.currency) == (100, "CNY")
    assert status.paid_at is not None
    assert status.paid_at.utcoffset() == timedelta(hours=8)  # WeChat writes Beijing time
    assert abs(status.paid_at - datetime.now(UTC)) < timedelta(seconds=10)
    assert status.raw["trade_state"] == "SUCCESS"

    assert paid.transaction_id is not None
    by_id = account.run(account.adapter.query_by_transaction_id(paid.transaction_id))
    assert by_id == status


def test_query_of_an_unknown_order_is_not_found(account: Account) -> None:
    status = account.run(account.adapter.query(new_order_no()))
    assert status.state is OrderState.NOT_FOUND
    with pytest.raises(ChannelRejected) as raised:
        account.run(account.adapter.query_by_transaction_id("4200000000202601010000000000"))
    assert raised.value.code == "ORDER_NOT_EXIST"


def test_an_order_number_is_escaped_in_the_signed_path(account: Account) -> None:
    # "|" and "*" are allowed in out_trade_no and are escaped on the wire; the signature still holds.
    order_no, _ = create(account, order_no=f"TB|{secrets.token_hex(4)}*")
    assert account.run(account.adapter.query(order_no)).state is OrderState.NOT_PAID


# -- close -------------------------------------------------------------------------------------------


def test_close_then_query_is_closed(account: Account) -> None:
    order_no, _ = create(account)
    assert account.run(account.adapter.close(order_no)) is None
    assert account.run(account.adapter.query(order_no)).state is OrderState.CLOSED
    assert account.order(order_no).trade_state == "CLOSED"


def test_close_of_an_order_the_channel_never_created_is_quietly_done(account: Account) -> None:
    assert account.run(account.adapter.close(new_order_no())) is None


def test_close_of_a_paid_order_raises_order_already_paid(account: Account) -> None:
    order_no, _ = create(account)
    account.pay(order_no)
    with pytest.raises(OrderAlreadyPaid) as raised:
        account.run(account.adapter.close(order_no))
    assert raised.value.code == "ORDERPAID"
    assert account.run(account.adapter.query(order_no)).state is OrderState.SUCCEEDED


# -- faults ------------------------------------------------------------------------------------------


def test_a_5xx_on_create_is_an_unknown_outcome_and_nothing_was_created(account: Account) -> None:
    account.env.faults({"endpoint": "create", "kind": "error_5xx", "rate": 1.0})
    request = order_request(account.env)
    with pytest.raises(ChannelUnknownOutcome) as raised:
        account.run(account.adapter.create(request))
    assert raised.value.code == "SYSTEM_ERROR"
    assert not account.has_order(request.order_no)
    assert account.run(account.adapter.query(request.order_no)).state is OrderState.NOT_FOUND


def test_a_system_error_on_create_is_an_unknown_outcome_though_the_order_exists(account: Account) -> None:
    account.env.faults({"endpoint": "create", "kind": "system_error", "rate": 1.0})
    request = order_request(account.env)
    with pytest.raises(ChannelUnknownOutcome):
        account.run(account.adapter.create(request))
    assert account.run(account.adapter.query(request.order_no)).state is OrderState.NOT_PAID


def test_a_create_that_times_out_is_an_unknown_outcome_and_the_order_exists(env: Env) -> None:
    account = open_account(env, timeout_s=0.5)
    env.faults({"endpoint": "create", "kind": "timeout", "rate": 1.0, "hang_s": 2})
    request = order_request(env)
    started = time.monotonic()
    with pytest.raises(ChannelUnknownOutcome) as raised:
        account.run(account.adapter.create(request))
    assert raised.value.code == "timeout"
    assert time.monotonic() - started < 1.5  # the client gave up; it did not wait for the stall
    assert account.has_order(request.order_no)
    assert account.run(account.adapter.query(request.order_no)).state is OrderState.NOT_PAID


def test_latency_below_the_timeout_is_only_slow(env: Env) -> None:
    account = open_account(env, timeout_s=0.5)
    env.faults({"endpoint": "create", "kind": "latency", "rate": 1.0, "latency_ms": 200})
    started = time.monotonic()
    _, action = create(account)
    assert time.monotonic() - started >= 0.2
    assert action.type == "qr_code"


def test_a_5xx_on_query_or_close_is_an_unknown_outcome(account: Account) -> None:
    order_no, _ = create(account)
    account.env.faults(
        {"endpoint": "query", "kind": "error_5xx", "rate": 1.0},
        {"endpoint": "close", "kind": "error_5xx", "rate": 1.0},
    )
    with pytest.raises(ChannelUnknownOutcome):
        account.run(account.adapter.query(order_no))
    with pytest.raises(ChannelUnknownOutcome):
        account.run(account.adapter.close(order_no))
    assert account.order(order_no).trade_state == "NOTPAY"  # nothing was applied


# -- platform keys -----------------------------------------------------------------------------------


def test_answers_signed_with_another_key_than_the_configured_one_are_never_believed(env: Env) -> None:
    # The right key id, the wrong key: the simulator's answers cannot be verified.
    account = open_account(env, platform_public_key_pem=samples.public_pem(stranger_key()))
    adapter = account.adapter
    request = order_request(env)

    def refused(coro: Coroutine[Any, Any, object]) -> None:
        with pytest.raises(ChannelUnknownOutcome) as raised:
            account.run(coro)
        assert raised.value.code == "bad_signature"

    refused(adapter.create(request))
    assert account.has_order(request.order_no)  # the channel acted; we just cannot know it
    refused(adapter.query(request.order_no))
    refused(adapter.query(new_order_no()))  # not even a 404 is taken at its word
    paid = account.pay(request.order_no)
    assert paid.transaction_id is not None
    refused(adapter.query(request.order_no))
    refused(adapter.query_by_transaction_id(paid.transaction_id))
    refused(adapter.close(request.order_no))  # an ORDERPAID refusal is not believed either

    callback = env.receiver.wait_for(request.order_no)
    with pytest.raises(NotificationRejected) as raised:
        account.run(adapter.parse_notification(callback.headers_for_adapter(), callback.body))
    assert raised.value.code == "bad_signature"


def test_certificate_mode_downloads_the_platform_certificate_once(env: Env) -> None:
    cache = CertificateCache()
    account = open_account(env, verification="certificate", certificates=cache)
    assert account.adapter.platform_key is None
    serial = account.platform["platform_serial"].upper()
    env.faults()  # a plan without rules: nothing fails, but the simulator counts calls per endpoint

    order_no, action = create(account)
    assert action.type == "qr_code"
    assert set(cache.keys[account.adapter.account_id]) == {serial}
    fetched_at = cache.fetched_at[account.adapter.account_id]
    assert account.run(account.adapter.query(order_no)).state is OrderState.NOT_PAID
    account.pay(order_no)
    status = account.run(account.adapter.query(order_no))
    assert (status.state, status.amount) == (OrderState.SUCCEEDED, 100)

    # Callbacks name the certificate's serial and verify with the cached key too.
    callback = env.receiver.wait_for(order_no)
    assert callback.headers[protocol.HEADER_SERIAL.lower()].upper() == serial
    parsed = account.run(account.adapter.parse_notification(callback.headers_for_adapter(), callback.body))
    assert (parsed.order_no, parsed.state) == (order_no, OrderState.SUCCEEDED)

    assert env.calls() == {"certificates": 1, "create": 1, "query": 2, "callback": 1}
    assert cache.fetched_at[account.adapter.account_id] == fetched_at

    # A serial nobody knows may make the adapter look again, but not more than once a minute.
    unknown = callback.headers_for_adapter(Wechatpay_Serial="5157F09EFDC096DE15EBE81A47057A72")
    with pytest.raises(NotificationRejected) as raised:
        account.run(account.adapter.parse_notification(unknown, callback.body))
    assert raised.value.code == "unknown_serial"
    assert env.calls()["certificates"] == 1


class CertificatesThrottled(httpx.AsyncBaseTransport):
    """Forwards to the simulator, except that the certificate download is refused with an unsigned
    429, as WeChat Pay does when certificates are fetched too often."""

    def __init__(self) -> None:
        self.inner = httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/v3/certificates"):
            return httpx.Response(429, json={"code": "FREQUENCY_LIMITED", "message": "too many requests"})
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


def test_a_refused_certificate_download_makes_a_create_unknown_not_refused(env: Env) -> None:
    account = open_account(env, verification="certificate", transport=CertificatesThrottled())
    request = order_request(env)
    # The simulator created the order and signed its answer; only the key to check it is missing.
    with pytest.raises(ChannelUnknownOutcome):
        account.run(account.adapter.create(request))
    assert account.has_order(request.order_no)


# -- callbacks ---------------------------------------------------------------------------------------


@dataclass
class PaidCallback:
    account: Account
    order_no: str
    order: Order
    captured: Captured

    def parse(self, headers: httpx.Headers | None = None, body: bytes | None = None) -> OrderStatus:
        adapter = self.account.adapter
        return self.account.run(
            adapter.parse_notification(
                self.captured.headers_for_adapter() if headers is None else headers,
                self.captured.body if body is None else body,
            )
        )

    def rejected(self, headers: httpx.Headers | None = None, body: bytes | None = None) -> str:
        with pytest.raises(NotificationRejected) as raised:
            self.parse(headers, body)
        return raised.value.code


@pytest.fixture
def paid_callback(account: Account) -> PaidCallback:
    """A real callback, as the simulator sent it to the merchant's notify_url after the payer paid."""
    order_no, _ = create(account, amount=2345)
    order = account.pay(order_no)
    return PaidCallback(account, order_no, order, account.env.receiver.wait_for(order_no))


def test_a_genuine_callback_is_read_as_the_payment(paid_callback: PaidCallback) -> None:
    status = paid_callback.parse()
    assert status.state is OrderState.SUCCEEDED
    assert status.order_no == paid_callback.order_no
    assert (status.amount, status.currency) == (2345, "CNY")
    assert status.channel_trade_no == paid_callback.order.transaction_id
    assert status.paid_at is not None


def test_a_callback_with_one_byte_changed_is_rejected(paid_callback: PaidCallback) -> None:
    body = bytearray(paid_callback.captured.body)
    body[len(body) // 2] ^= 0x01
    assert paid_callback.rejected(body=bytes(body)) == "bad_signature"


@pytest.mark.parametrize("shift_s", [-600, 600])
def test_a_callback_whose_timestamp_is_ten_minutes_off_is_stale(
    paid_callback: PaidCallback, shift_s: int
) -> None:
    captured = paid_callback.captured
    moved = str(int(captured.headers["wechatpay-timestamp"]) + shift_s)
    assert paid_callback.rejected(captured.headers_for_adapter(Wechatpay_Timestamp=moved)) == "stale"


def test_a_callback_without_a_timestamp_is_rejected(paid_callback: PaidCallback) -> None:
    headers = paid_callback.captured.headers_for_adapter()
    del headers[protocol.HEADER_TIMESTAMP]
    assert paid_callback.rejected(headers) == "bad_timestamp"


def test_a_callback_naming_an_unknown_serial_is_rejected(paid_callback: PaidCallback) -> None:
    headers = paid_callback.captured.headers_for_adapter(Wechatpay_Serial="PUB_KEY_ID_0199999999999")
    assert paid_callback.rejected(headers) == "unknown_serial"


def test_a_callback_for_another_merchant_does_not_decrypt(env: Env, paid_callback: PaidCallback) -> None:
    # Signed by the same platform, but sealed with the other merchant's API v3 key.
    other = open_account(env)
    with pytest.raises(NotificationRejected) as raised:
        other.run(
            other.adapter.parse_notification(
                paid_callback.captured.headers_for_adapter(), paid_callback.captured.body
            )
        )
    assert raised.value.code == "undecryptable"


def test_reply_acknowledges_with_204_and_refuses_with_wechats_json(account: Account) -> None:
    accepted = account.adapter.reply(True)
    assert (accepted.status_code, accepted.body) == (204, b"")
    refused = account.adapter.reply(False, "x")
    assert 400 <= refused.status_code < 500
    assert refused.media_type == "application/json"
    assert json.loads(refused.body) == {"code": "FAIL", "message": "x"}
