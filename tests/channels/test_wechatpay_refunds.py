"""The WeChat Pay adapter's refunds against the real simulator, over HTTP, mounted below a prefix:
submit, query, refund callbacks, and what faults make of them."""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Iterator
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
    new_order_no,
    open_account,
    running_env,
    stranger_key,
)
from tongbao.channels.base import (
    ChannelRejected,
    ChannelUnknownOutcome,
    NotificationRejected,
    OrderState,
    RefundRequest,
    RefundResult,
    RefundState,
)
from tongbao.channels.wechatpay import protocol
from tongbao.ids import new_id
from tongbao.security import samples
from tongbao.simulators.wechatpay import WeChatPaySimulator
from tongbao.simulators.wechatpay.state_models import Order

REFUND_DELAY_S = 0.1


@pytest.fixture(name="env", scope="module")
def env_fixture() -> Iterator[Env]:
    yield from running_env(refund_delay_s=REFUND_DELAY_S)


def paid_order(account: Account, amount: int = 1000) -> Order:
    order_no, _ = create(account, amount=amount)
    return account.pay(order_no)


def refund_request(account: Account, order: Order, amount: int, **changes: Any) -> RefundRequest:
    refund_no = new_id("refund")
    request = RefundRequest(
        refund_no=refund_no,
        order_no=order.out_trade_no,
        channel_trade_no=order.transaction_id,
        amount=amount,
        order_amount=order.total,
        currency="CNY",
        notify_url=account.env.notify_url(refund_no),
        reason="顾客退货",
    )
    return dataclasses.replace(request, **changes)


def settled(account: Account, request: RefundRequest, timeout_s: float = 5.0) -> RefundResult:
    """Queries until the refund is no longer processing."""
    deadline = time.monotonic() + timeout_s
    while True:
        result = account.run(account.adapter.query_refund(request))
        if result.state is not RefundState.PROCESSING or time.monotonic() > deadline:
            return result
        time.sleep(0.02)


def parse(account: Account, captured: Captured, body: bytes | None = None, **headers: str) -> RefundResult:
    return account.run(
        account.adapter.parse_refund_notification(
            captured.headers_for_adapter(**headers), captured.body if body is None else body
        )
    )


def rejected(account: Account, captured: Captured, body: bytes | None = None, **headers: str) -> str:
    with pytest.raises(NotificationRejected) as raised:
        parse(account, captured, body, **headers)
    return raised.value.code


# -- submit and query --------------------------------------------------------------------------------


def test_a_full_refund_is_processing_then_succeeded(account: Account) -> None:
    order = paid_order(account)
    request = refund_request(account, order, 1000)
    assert request.refund_no.startswith("rfd_")
    submitted = account.run(account.adapter.refund(request))
    assert (submitted.refund_no, submitted.state, submitted.amount) == (
        request.refund_no,
        RefundState.PROCESSING,
        1000,
    )
    assert submitted.channel_refund_no and submitted.failure_reason is None
    assert submitted.refunded_at is None and submitted.raw["status"] == "PROCESSING"

    result = settled(account, request)
    assert result.state is RefundState.SUCCEEDED
    assert result.channel_refund_no == submitted.channel_refund_no and result.amount == 1000
    assert result.refunded_at is not None and result.refunded_at.utcoffset() is not None
    [refund] = account.order(order.out_trade_no).refunds
    assert refund.out_refund_no == request.refund_no and refund.reason == "顾客退货"
    # The order was paid all the same: WeChat's "REFUND" is still a capture.
    status = account.run(account.adapter.query(order.out_trade_no))
    assert (status.state, status.raw["trade_state"], status.amount) == (OrderState.SUCCEEDED, "REFUND", 1000)


def test_a_refund_by_order_number_when_the_transaction_id_is_unknown(account: Account) -> None:
    order = paid_order(account)
    request = refund_request(account, order, 10, channel_trade_no=None)
    assert account.run(account.adapter.refund(request)).state is RefundState.PROCESSING
    assert settled(account, request).state is RefundState.SUCCEEDED


def test_partial_refunds_up_to_the_total_then_the_next_is_rejected(account: Account) -> None:
    order = paid_order(account)
    requests = [refund_request(account, order, amount) for amount in (250, 250, 500)]
    for request in requests:
        assert account.run(account.adapter.refund(request)).state is RefundState.PROCESSING
    with pytest.raises(ChannelRejected) as raised:
        account.run(account.adapter.refund(refund_request(account, order, 1)))
    assert (raised.value.code, raised.value.message) == ("INVALID_REQUEST", "订单已全额退款")
    assert [settled(account, request).state for request in requests] == [RefundState.SUCCEEDED] * 3
    assert sum(refund.amount for refund in account.order(order.out_trade_no).refunds) == 1000


def test_a_refund_above_what_is_left_is_rejected(account: Account) -> None:
    order = paid_order(account)
    account.run(account.adapter.refund(refund_request(account, order, 900)))
    with pytest.raises(ChannelRejected) as raised:
        account.run(account.adapter.refund(refund_request(account, order, 101)))
    assert raised.value.code == "INVALID_REQUEST" and "可退金额" in raised.value.message
    assert len(account.order(order.out_trade_no).refunds) == 1


def test_submitting_the_same_refund_again_is_the_same_refund(account: Account) -> None:
    order = paid_order(account)
    request = refund_request(account, order, 600)
    first = account.run(account.adapter.refund(request))
    again = account.run(account.adapter.refund(request))
    assert again.channel_refund_no == first.channel_refund_no
    assert settled(account, request).state is RefundState.SUCCEEDED
    after = account.run(account.adapter.refund(request))
    assert (after.state, after.channel_refund_no) == (RefundState.SUCCEEDED, first.channel_refund_no)
    assert len(account.order(order.out_trade_no).refunds) == 1
    # 400 of the 1000 are left: the repeats took nothing more.
    assert account.run(account.adapter.refund(refund_request(account, order, 400))).amount == 400


def test_the_same_refund_number_with_another_amount_is_rejected(account: Account) -> None:
    order = paid_order(account)
    request = refund_request(account, order, 600)
    account.run(account.adapter.refund(request))
    with pytest.raises(ChannelRejected) as raised:
        account.run(account.adapter.refund(dataclasses.replace(request, amount=601)))
    assert raised.value.code == "INVALID_REQUEST"


def test_a_query_of_an_unknown_refund_is_not_found(account: Account) -> None:
    order = paid_order(account)
    result = account.run(account.adapter.query_refund(refund_request(account, order, 1)))
    assert result.state is RefundState.NOT_FOUND and result.channel_refund_no is None


def test_refunds_of_unknown_or_unpaid_orders_are_rejected(account: Account) -> None:
    unpaid_no, _ = create(account)
    unpaid = account.order(unpaid_no)
    for order_no in (unpaid_no, new_order_no()):
        request = dataclasses.replace(
            refund_request(account, unpaid, 100), order_no=order_no, channel_trade_no=None
        )
        with pytest.raises(ChannelRejected) as raised:
            account.run(account.adapter.refund(request))
        assert (raised.value.code, raised.value.message) == ("RESOURCE_NOT_EXISTS", "订单不存在")
    assert account.order(unpaid_no).refunds == []


def test_a_long_reason_is_cut_to_wechats_80_bytes(account: Account) -> None:
    order = paid_order(account)
    request = refund_request(account, order, 1, reason="退" * 40)  # 120 bytes
    account.run(account.adapter.refund(request))
    [refund] = account.order(order.out_trade_no).refunds
    assert refund.reason == "退" * 26


# -- faults ------------------------------------------------------------------------------------------


def test_a_refund_that_times_out_is_unknown_and_the_query_shows_the_truth(env: Env) -> None:
    account = open_account(env, timeout_s=0.5)
    order = paid_order(account)
    env.faults({"endpoint": "refund", "kind": "timeout", "rate": 1.0, "hang_s": 2})
    request = refund_request(account, order, 300)
    with pytest.raises(ChannelUnknownOutcome) as raised:
        account.run(account.adapter.refund(request))
    assert raised.value.code == "timeout"
    result = settled(account, request)
    assert (result.state, result.amount) == (RefundState.SUCCEEDED, 300)


def test_a_5xx_on_refund_is_unknown_and_the_query_finds_nothing_so_submitting_again_is_safe(
    account: Account,
) -> None:
    order = paid_order(account)
    account.env.faults({"endpoint": "refund", "kind": "error_5xx", "rate": 1.0})
    request = refund_request(account, order, 300)
    with pytest.raises(ChannelUnknownOutcome) as raised:
        account.run(account.adapter.refund(request))
    assert raised.value.code == "SYSTEM_ERROR"
    assert account.run(account.adapter.query_refund(request)).state is RefundState.NOT_FOUND
    account.env.clear_faults()
    assert account.run(account.adapter.refund(request)).state is RefundState.PROCESSING


def test_a_system_error_on_refund_is_unknown_though_the_refund_exists(account: Account) -> None:
    order = paid_order(account)
    account.env.faults({"endpoint": "refund", "kind": "system_error", "rate": 1.0})
    request = refund_request(account, order, 300)
    with pytest.raises(ChannelUnknownOutcome):
        account.run(account.adapter.refund(request))
    assert settled(account, request).state is RefundState.SUCCEEDED


def test_a_5xx_on_refund_query_is_unknown(account: Account) -> None:
    order = paid_order(account)
    request = refund_request(account, order, 300)
    account.run(account.adapter.refund(request))
    account.env.faults({"endpoint": "refund_query", "kind": "error_5xx", "rate": 1.0})
    with pytest.raises(ChannelUnknownOutcome):
        account.run(account.adapter.query_refund(request))


def test_processing_fault_then_success_on_query(account: Account) -> None:
    order = paid_order(account)
    account.env.faults({"endpoint": "refund", "kind": "processing", "rate": 1.0, "polls": 2})
    request = refund_request(account, order, 500)
    assert account.run(account.adapter.refund(request)).state is RefundState.PROCESSING
    time.sleep(REFUND_DELAY_S * 3)  # it would have finished by now without the fault
    states = [account.run(account.adapter.query_refund(request)).state for _ in range(3)]
    assert states == [RefundState.PROCESSING, RefundState.PROCESSING, RefundState.SUCCEEDED]
    callback = account.env.receiver.wait_for(request.refund_no)
    assert parse(account, callback).state is RefundState.SUCCEEDED


def test_abnormal_fault_fails_the_refund_with_wechats_reason(account: Account) -> None:
    order = paid_order(account)
    account.env.faults({"endpoint": "refund", "kind": "abnormal", "rate": 1.0})
    request = refund_request(account, order, 1000)
    assert account.run(account.adapter.refund(request)).state is RefundState.PROCESSING
    callback = account.env.receiver.wait_for(request.refund_no)
    notified = parse(account, callback)
    assert notified.state is RefundState.FAILED and notified.refunded_at is None
    assert notified.failure_reason is not None
    assert notified.failure_reason.startswith("ABNORMAL: 退款异常，退款到银行发现用户的卡作废或者冻结了")
    queried = account.run(account.adapter.query_refund(request))
    assert (queried.state, queried.failure_reason) == (RefundState.FAILED, notified.failure_reason)


def test_frequency_limited_is_unknown_not_rejected(env: Env) -> None:
    account = open_account(env, transport=Throttled(env.sim))
    order = paid_order(account)
    request = refund_request(account, order, 100)
    with pytest.raises(ChannelUnknownOutcome) as raised:
        account.run(account.adapter.refund(request))
    assert raised.value.code == "FREQUENCY_LIMITED"
    assert account.order(order.out_trade_no).refunds == []


class Throttled(httpx.AsyncBaseTransport):
    """Answers refund submits with WeChat's 429 FREQUENCY_LIMITED, signed by the platform as WeChat
    signs its errors; everything else goes to the simulator."""

    def __init__(self, sim: WeChatPaySimulator) -> None:
        self.sim = sim
        self.inner = httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "POST" and request.url.path.endswith("/v3/refund/domestic/refunds"):
            body = json.dumps({"code": "FREQUENCY_LIMITED", "message": "频率限制"}).encode()
            timestamp, nonce = str(int(time.time())), protocol.new_nonce()
            headers = {
                protocol.HEADER_TIMESTAMP: timestamp,
                protocol.HEADER_NONCE: nonce,
                protocol.HEADER_SIGNATURE: self.sim.platform.sign(timestamp, nonce, body),
                protocol.HEADER_SERIAL: self.sim.platform.public_key_id,
                "Content-Type": "application/json",
            }
            return httpx.Response(429, content=body, headers=headers)
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


def test_answers_signed_with_another_key_are_unknown(env: Env) -> None:
    account = open_account(env, platform_public_key_pem=samples.public_pem(stranger_key()))
    order_no = new_order_no()
    with pytest.raises(ChannelUnknownOutcome):  # created, but its answer cannot be believed either
        create(account, order_no=order_no)
    order = account.pay(order_no)
    request = refund_request(account, order, 100)
    for call in (account.adapter.refund, account.adapter.query_refund):
        with pytest.raises(ChannelUnknownOutcome) as raised:
            account.run(call(request))
        assert raised.value.code == "bad_signature"
    assert len(account.order(order.out_trade_no).refunds) == 1  # the channel acted; we cannot know it


def test_certificate_mode_verifies_refund_answers_and_callbacks(env: Env) -> None:
    account = open_account(env, verification="certificate")
    order = paid_order(account)
    request = refund_request(account, order, 100)
    assert account.run(account.adapter.refund(request)).state is RefundState.PROCESSING
    callback = account.env.receiver.wait_for(request.refund_no)
    assert parse(account, callback).state is RefundState.SUCCEEDED


# -- refund callbacks --------------------------------------------------------------------------------


@dataclasses.dataclass
class RefundCallback:
    account: Account
    request: RefundRequest
    captured: Captured


@pytest.fixture
def refund_callback(account: Account) -> RefundCallback:
    """A real REFUND.SUCCESS callback, as the simulator sent it to the refund's notify_url."""
    request = refund_request(account, paid_order(account), 700)
    account.run(account.adapter.refund(request))
    return RefundCallback(account, request, account.env.receiver.wait_for(request.refund_no))


def test_a_genuine_refund_callback_is_read_as_the_refund(refund_callback: RefundCallback) -> None:
    result = parse(refund_callback.account, refund_callback.captured)
    assert (result.refund_no, result.state, result.amount) == (
        refund_callback.request.refund_no,
        RefundState.SUCCEEDED,
        700,
    )
    assert result.channel_refund_no and result.refunded_at is not None
    assert result.raw["refund_status"] == "SUCCESS"


def test_a_tampered_refund_callback_is_rejected(refund_callback: RefundCallback) -> None:
    body = bytearray(refund_callback.captured.body)
    body[len(body) // 2] ^= 0x01
    assert rejected(refund_callback.account, refund_callback.captured, bytes(body)) == "bad_signature"


def test_a_forged_refund_callback_is_rejected(refund_callback: RefundCallback) -> None:
    # Well formed and sealed with the right API v3 key, but signed with a key that is not the platform's.
    captured = refund_callback.captured
    timestamp, nonce = captured.headers["wechatpay-timestamp"], protocol.new_nonce()
    forged = protocol.sign(stranger_key(), protocol.message(timestamp, nonce, captured.body))
    code = rejected(refund_callback.account, captured, Wechatpay_Nonce=nonce, Wechatpay_Signature=forged)
    assert code == "bad_signature"


def test_a_stale_refund_callback_is_rejected(refund_callback: RefundCallback) -> None:
    captured = refund_callback.captured
    moved = str(int(captured.headers["wechatpay-timestamp"]) - 600)
    assert rejected(refund_callback.account, captured, Wechatpay_Timestamp=moved) == "stale"


def test_a_refund_callback_for_another_merchant_does_not_decrypt(
    env: Env, refund_callback: RefundCallback
) -> None:
    assert rejected(open_account(env), refund_callback.captured) == "undecryptable"


def test_payment_and_refund_callbacks_are_not_taken_for_each_other(
    refund_callback: RefundCallback,
) -> None:
    account = refund_callback.account
    captured = refund_callback.captured
    with pytest.raises(NotificationRejected) as raised:
        account.run(account.adapter.parse_notification(captured.headers_for_adapter(), captured.body))
    assert raised.value.code == "unexpected_event"

    order_no, _ = create(account)
    account.pay(order_no)
    payment = account.env.receiver.wait_for(order_no)
    assert rejected(account, payment) == "unexpected_event"
