"""UnionPay refunds through the adapter against the real simulator, over HTTP, mounted below a prefix:
submit, query, the back notify, and every way the gateway can leave the outcome unknown.

The adapter's coroutines run on the server's event loop, where its HTTP client lives.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from tests.channels.unionpay_env import (  # noqa: F401  (the fixtures register by import)
    Env,
    clean_env,
    make_adapter,
    order_request,
    pay,
    post_form,
    rejection,
    running_env,
)
from tests.simulators.support import wait_until
from tests.support.live_server import LiveServer
from tongbao.channels.base import (
    ChannelRejected,
    ChannelUnknownOutcome,
    NotificationRejected,
    OrderState,
    RefundRequest,
    RefundResult,
    RefundState,
)
from tongbao.channels.unionpay import protocol
from tongbao.channels.unionpay.adapter import UnionPayAdapter
from tongbao.ids import new_id
from tongbao.security import samples


@pytest.fixture(name="env", scope="module")
def env_fixture() -> Iterator[Env]:
    yield from running_env(refund_settle_s=0.05)


@pytest.fixture
def adapter(env: Env) -> UnionPayAdapter:
    return make_adapter(env, timeout_s=0.5)[0]


def paid(env: Env, adapter: UnionPayAdapter, amount: int = 2500) -> tuple[str, str]:
    """A paid order: its order number and its queryId (the refund's origQryId)."""
    order = order_request(env, amount=amount)
    post_form(env, order, adapter)
    pay(env, order.order_no)
    status = env.run(adapter.query(order.order_no))
    assert status.state is OrderState.SUCCEEDED and status.channel_trade_no
    return order.order_no, status.channel_trade_no


def refund_request(env: Env, order: tuple[str, str], amount: int, order_amount: int = 2500) -> RefundRequest:
    refund_no = new_id("refund")
    return RefundRequest(
        refund_no=refund_no,
        order_no=order[0],
        channel_trade_no=order[1],
        amount=amount,
        order_amount=order_amount,
        currency="CNY",
        notify_url=f"{env.receiver_url}/notify/{refund_no}",
        reason="returned goods",
    )


def notify_body(env: Env, request: RefundRequest, count: int = 1) -> bytes:
    received = wait_until(lambda: len(env.receiver.received(f"/notify/{request.refund_no}")) >= count)
    assert received
    return env.receiver.received(f"/notify/{request.refund_no}")[count - 1].body


def sim_refunds(env: Env, order_no: str) -> list[dict[str, Any]]:
    order_id = protocol.order_id(order_no)
    record = env.on_loop(lambda: env.sim.find_order({"out_trade_no": order_id}).record())
    return list(record["refunds"])


def test_a_full_refund_is_accepted_then_notified_and_queried_as_succeeded(
    env: Env, adapter: UnionPayAdapter
) -> None:
    order = paid(env, adapter)
    request = refund_request(env, order, 2500)
    accepted = env.run(adapter.refund(request))
    assert accepted.state is RefundState.PROCESSING and accepted.refund_no == request.refund_no
    assert accepted.amount == 2500 and accepted.channel_refund_no and len(accepted.channel_refund_no) == 21

    notified = env.run(adapter.parse_refund_notification({}, notify_body(env, request)))
    assert notified.state is RefundState.SUCCEEDED and notified.refund_no == request.refund_no
    assert (notified.amount, notified.channel_refund_no) == (2500, accepted.channel_refund_no)
    assert notified.refunded_at is not None
    assert abs(notified.refunded_at - env.clock.now()) < timedelta(seconds=2)
    assert notified.raw["origQryId"] == order[1]

    queried = env.run(adapter.query_refund(request))
    assert queried.state is RefundState.SUCCEEDED and queried.amount == 2500
    assert queried.channel_refund_no == accepted.channel_refund_no and queried.failure_reason is None
    (refund,) = sim_refunds(env, order[0])
    assert refund["refund_no"] == protocol.order_id(request.refund_no) and refund["status"] == "SUCCESS"
    assert refund["back_url"] == request.notify_url
    assert adapter.reply(True).status_code == 200


def test_the_request_is_the_gateways_refund_message(env: Env, adapter: UnionPayAdapter) -> None:
    order = paid(env, adapter)
    request = refund_request(env, order, 100)
    env.run(adapter.refund(request))
    (refund,) = sim_refunds(env, order[0])
    assert refund["txn_time"] == protocol.txn_time(request.refund_no)
    assert protocol.parse_time(refund["txn_time"]) <= datetime.now(UTC)
    assert refund["orig_qry_id"] == order[1] and refund["amount"] == 100


def test_partial_refunds_up_to_the_exact_total_then_the_next_is_refused(
    env: Env, adapter: UnionPayAdapter
) -> None:
    order = paid(env, adapter, 2500)
    for amount in (1000, 1000, 500):
        assert env.run(adapter.refund(refund_request(env, order, amount))).state is RefundState.PROCESSING
    with pytest.raises(ChannelRejected) as refused:
        env.run(adapter.refund(refund_request(env, order, 1)))
    assert refused.value.code == "respCode_33" and "超限" in refused.value.message
    assert [r["amount"] for r in sim_refunds(env, order[0])] == [1000, 1000, 500]


def test_submitting_the_same_refund_again_is_the_same_refund(env: Env, adapter: UnionPayAdapter) -> None:
    order = paid(env, adapter)
    request = refund_request(env, order, 800)
    first = env.run(adapter.refund(request))
    wait_until(lambda: sim_refunds(env, order[0])[0]["status"] == "SUCCESS")
    again = env.run(adapter.refund(request))
    assert again.channel_refund_no == first.channel_refund_no
    assert len(sim_refunds(env, order[0])) == 1
    assert env.run(adapter.query_refund(request)).state is RefundState.SUCCEEDED
    # The refund number with another amount is another refund: the gateway's duplicate refusal.
    with pytest.raises(ChannelRejected) as reused:
        env.run(adapter.refund(replace(request, amount=300)))
    assert reused.value.code == "respCode_12"
    assert len(sim_refunds(env, order[0])) == 1


def test_a_duplicate_answer_about_this_very_refund_is_not_a_refusal(env: Env) -> None:
    """Should the gateway call a resubmission a duplicate, the query says whether it is this one."""
    _, mer_id = make_adapter(env)
    request = refund_request(env, ("pat_x", "240101120000123456789"), 500)

    async def back(request_: Request) -> PlainTextResponse:
        form = protocol.parse_form(await request_.body())
        answer = {k: form[k] for k in ("merId", "orderId", "txnTime")}
        return PlainTextResponse(protocol.encode_answer(env.sim.identity.sign({**answer, "respCode": "12"})))

    async def query(request_: Request) -> PlainTextResponse:
        form = protocol.parse_form(await request_.body())
        answer = {k: form[k] for k in ("merId", "orderId", "txnTime")}
        answer.update(
            {
                "respCode": "00",
                "origRespCode": "05",
                "txnAmt": str(amount_held),
                "queryId": "240101120500987654321",
                "origQryId": "240101120000123456789",
            }
        )
        return PlainTextResponse(protocol.encode_answer(env.sim.identity.sign(answer)))

    amount_held = 500
    routes = [
        Route(protocol.BACK_PATH, back, methods=["POST"]),
        Route(protocol.QUERY_PATH, query, methods=["POST"]),
    ]
    fake = LiveServer(Starlette(routes=routes)).start()
    try:
        config = {
            "mer_id": mer_id,
            "unionpay_certificate_pem": env.sim.identity.certificate_pem,
        }
        gateway, _ = make_adapter(env, mer_id=mer_id, config=config, base_url=fake.url)
        same = env.run(gateway.refund(request))
        assert same.state is RefundState.PROCESSING and same.channel_refund_no == "240101120500987654321"
        amount_held = 400  # the gateway holds another refund under this orderId
        with pytest.raises(ChannelRejected) as refused:
            env.run(gateway.refund(request))
        assert refused.value.code == "respCode_12"
    finally:
        fake.stop()


def test_a_refund_the_gateway_never_received_is_not_found(env: Env, adapter: UnionPayAdapter) -> None:
    order = paid(env, adapter)
    result = env.run(adapter.query_refund(refund_request(env, order, 100)))
    assert result.state is RefundState.NOT_FOUND and result.channel_refund_no is None


@pytest.mark.parametrize(
    ("rule", "code", "received"),
    [
        ({"kind": "timeout", "hang_s": 3.0}, "timeout", True),
        ({"kind": "timeout", "hang_s": 3.0, "before": True}, "timeout", False),
        ({"kind": "error_5xx"}, "http_500", False),
        ({"kind": "system_error"}, "respCode_03", True),
    ],
)
def test_unknown_outcomes_then_the_query_tells_the_truth(
    env: Env, adapter: UnionPayAdapter, rule: dict[str, Any], code: str, received: bool
) -> None:
    order = paid(env, adapter)
    request = refund_request(env, order, 1200)
    env.faults({"endpoint": "refund", "rate": 1.0, **rule})
    with pytest.raises(ChannelUnknownOutcome) as raised:
        env.run(adapter.refund(request))
    assert raised.value.code == code
    env.on_loop(env.sim.faults.clear)
    if not received:
        assert env.run(adapter.query_refund(request)).state is RefundState.NOT_FOUND
        # Nothing reached the gateway: submitting it again is safe and takes.
        assert env.run(adapter.refund(request)).state is RefundState.PROCESSING
    truth = wait_until(
        lambda: (result := env.run(adapter.query_refund(request))).state is RefundState.SUCCEEDED and result
    )
    assert truth.amount == 1200
    assert len(sim_refunds(env, order[0])) == 1


@pytest.mark.parametrize(
    ("rule", "code"),
    [
        ({"kind": "error_5xx"}, "http_500"),
        ({"kind": "system_error"}, "respCode_03"),
        ({"kind": "timeout", "hang_s": 3.0}, "timeout"),
    ],
)
def test_a_refund_query_that_fails_is_an_unknown_outcome(
    env: Env, adapter: UnionPayAdapter, rule: dict[str, Any], code: str
) -> None:
    order = paid(env, adapter)
    request = refund_request(env, order, 100)
    env.run(adapter.refund(request))
    env.faults({"endpoint": "refund_query", "rate": 1.0, **rule})
    with pytest.raises(ChannelUnknownOutcome) as raised:
        env.run(adapter.query_refund(request))
    assert raised.value.code == code


def test_processing_then_success_on_query(env: Env, adapter: UnionPayAdapter) -> None:
    order = paid(env, adapter)
    request = refund_request(env, order, 900)
    env.faults({"endpoint": "refund", "kind": "processing", "rate": 1.0, "polls": 2})
    assert env.run(adapter.refund(request)).state is RefundState.PROCESSING
    for _ in range(2):
        held = env.run(adapter.query_refund(request))
        assert held.state is RefundState.PROCESSING and held.channel_refund_no
    assert env.receiver.received(f"/notify/{request.refund_no}") == []
    done = env.run(adapter.query_refund(request))
    assert done.state is RefundState.SUCCEEDED and done.amount == 900
    notified = env.run(adapter.parse_refund_notification({}, notify_body(env, request)))
    assert notified.state is RefundState.SUCCEEDED


def test_an_abnormal_refund_fails_with_the_gateways_reason(env: Env, adapter: UnionPayAdapter) -> None:
    order = paid(env, adapter)
    request = refund_request(env, order, 2500)
    env.faults({"endpoint": "refund", "kind": "abnormal", "rate": 1.0})
    assert env.run(adapter.refund(request)).state is RefundState.PROCESSING
    notified = env.run(adapter.parse_refund_notification({}, notify_body(env, request)))
    assert notified.state is RefundState.FAILED and notified.refunded_at is None
    assert notified.failure_reason is not None
    assert (
        notified.failure_reason.startswith("respCode 63: 卡状态不正确") and "销户" in notified.failure_reason
    )
    queried = env.run(adapter.query_refund(request))
    assert queried.state is RefundState.FAILED and queried.failure_reason == notified.failure_reason
    # Nothing went back, so the whole amount may be refunded again under a new refund number.
    env.on_loop(env.sim.faults.clear)
    assert env.run(adapter.refund(refund_request(env, order, 2500))).state is RefundState.PROCESSING


def test_a_lost_refund_notify_is_made_good_by_the_query(env: Env, adapter: UnionPayAdapter) -> None:
    order = paid(env, adapter)
    request = refund_request(env, order, 300)
    env.faults({"endpoint": "refund_callback", "kind": "lost", "rate": 1.0})
    env.run(adapter.refund(request))
    env.run(env.sim.wait_callbacks())
    assert env.receiver.received(f"/notify/{request.refund_no}") == []
    assert env.run(adapter.query_refund(request)).state is RefundState.SUCCEEDED


def test_refund_notifications_that_cannot_be_believed_are_rejected(
    env: Env, adapter: UnionPayAdapter
) -> None:
    order = paid(env, adapter)
    request = refund_request(env, order, 400)
    env.run(adapter.refund(request))
    body = notify_body(env, request)
    form = protocol.parse_form(body)

    def parse(fields: dict[str, str]) -> str:
        return rejection(env, adapter.parse_refund_notification, fields)

    assert parse({**form, "txnAmt": "1"}) == "bad_signature"
    assert parse({**form, "respCode": "63"}) == "bad_signature"
    assert parse({**form, "certId": "42"}) == "bad_signature"
    assert parse({k: v for k, v in form.items() if k != "signature"}) == "bad_signature"
    forged = protocol.signed(samples.new_rsa_key(), env.sim.identity.cert_id, form)
    assert parse(forged) == "bad_signature"
    sim_sign = env.sim.identity.sign
    assert parse(sim_sign({**form, "merId": "898310048999999"})) == "wrong_merchant"
    assert parse(sim_sign({**form, "txnAmt": "4.00"})) == "malformed"
    assert parse(sim_sign({**form, "txnTime": "20200101000000"})) == "malformed"
    assert parse(sim_sign({**form, "respCode": "05"})) == "malformed"
    with pytest.raises(NotificationRejected):
        env.run(adapter.parse_refund_notification({}, b"\xff\xfe"))
    # A refund's notify is not a payment's, and a payment's is not a refund's.
    with pytest.raises(NotificationRejected):
        env.run(adapter.parse_notification({}, body))
    assert parse(sim_sign({**form, "txnType": "01", "txnSubType": "01"})) == "malformed"
    # The genuine one still reads.
    result: RefundResult = env.run(adapter.parse_refund_notification({}, body))
    assert result.state is RefundState.SUCCEEDED and result.amount == 400


def test_refusals_before_any_call(env: Env, adapter: UnionPayAdapter) -> None:
    order = paid(env, adapter)
    base = refund_request(env, order, 100)
    for changes, code in (
        ({"currency": "USD"}, "CURRENCY_UNSUPPORTED"),
        ({"amount": 0}, "AMOUNT_INVALID"),
        ({"channel_trade_no": None}, "ORIG_QRY_ID_MISSING"),
        ({"refund_no": "R-not-ours"}, "ORDER_NO_INVALID"),
    ):
        with pytest.raises(ChannelRejected) as refused:
            env.run(adapter.refund(replace(base, **changes)))
        assert refused.value.code == code
    assert sim_refunds(env, order[0]) == []


def test_a_refund_of_an_unknown_payment_is_refused(env: Env, adapter: UnionPayAdapter) -> None:
    request = refund_request(env, (new_id("attempt"), "240101120000123456789"), 100)
    with pytest.raises(ChannelRejected) as refused:
        env.run(adapter.refund(request))
    assert refused.value.code == "respCode_35"


def test_an_answer_that_does_not_verify_is_an_unknown_outcome(env: Env, adapter: UnionPayAdapter) -> None:
    order = paid(env, adapter)
    request = refund_request(env, order, 100)
    other_pem = samples.self_signed_certificate(samples.new_rsa_key(), "not UnionPay")
    mer_id = adapter.mer_id
    doubter, _ = make_adapter(
        env, mer_id=mer_id, config={"mer_id": mer_id, "unionpay_certificate_pem": other_pem}
    )
    with pytest.raises(ChannelUnknownOutcome) as raised:
        env.run(doubter.refund(request))
    assert raised.value.code == "bad_signature"
    with pytest.raises(ChannelUnknownOutcome):
        env.run(doubter.query_refund(request))
