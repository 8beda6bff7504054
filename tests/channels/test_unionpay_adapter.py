"""The UnionPay adapter against the real simulator, over HTTP, mounted below a prefix.

The adapter's coroutines run on the server's event loop, where its HTTP client lives.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from tests.channels.unionpay_env import (  # noqa: F401  (the fixtures register by import)
    Env,
    clean_env,
    env_fixture,
    make_adapter,
    merchant_identity,
    order_request,
    pay,
    post_form,
    rejection,
)
from tests.simulators.support import wait_until
from tests.support.live_server import LiveServer
from tongbao.channels.base import (
    ChannelRejected,
    ChannelUnknownOutcome,
    Method,
    NotificationRejected,
    OrderRequest,
    OrderState,
)
from tongbao.channels.unionpay import protocol
from tongbao.channels.unionpay.adapter import UnionPayAdapter
from tongbao.ids import new_id
from tongbao.money import fen_to_string, string_to_fen
from tongbao.security import samples


def test_create_returns_a_signed_form_that_opens_the_order(env: Env) -> None:
    adapter, mer_id = make_adapter(env)
    order = order_request(env, Method.UNIONPAY_WAP)
    action = env.run(adapter.create(order))
    assert action.type == "form_post" and action.data["url"] == f"{env.base_url}/gateway/api/frontTransReq.do"
    fields = action.data["fields"]
    certificate = protocol.load_certificate(merchant_identity()[1])
    assert fields["certId"] == str(certificate.serial_number)
    assert protocol.verify(protocol.certificate_key(certificate), fields)
    assert fields["orderId"] == order.order_no.replace("_", "") and fields["merId"] == mer_id
    assert (fields["txnAmt"], fields["channelType"], fields["currencyCode"]) == ("2500", "08", "156")
    assert fields["txnTime"] == protocol.txn_time(order.order_no)
    assert fields["payTimeout"] == protocol.format_time(order.expires_at)
    assert fields["backUrl"] == order.notify_url and fields["frontUrl"] == "https://shop.example/return"
    response = httpx.post(action.data["url"], data=fields, trust_env=False, timeout=10)
    assert response.status_code == 200 and "¥25.00" in response.text
    record = env.on_loop(lambda: env.sim.find_order({"out_trade_no": fields["orderId"]}).record())
    assert record["state"] == "OPEN" and record["channel_type"] == "08"


def test_query_follows_the_order_from_unknown_to_paid(env: Env) -> None:
    adapter, _ = make_adapter(env)
    order = order_request(env)
    assert env.run(adapter.query(order.order_no)).state is OrderState.NOT_FOUND
    post_form(env, order, adapter)
    assert env.run(adapter.query(order.order_no)).state is OrderState.PAYING
    env.run(adapter.close(order.order_no))  # nothing to do at UnionPay
    pay(env, order.order_no, amount=2400)
    status = env.run(adapter.query(order.order_no))
    assert status.state is OrderState.SUCCEEDED and status.order_no == order.order_no
    assert (status.amount, status.currency) == (2400, "CNY")
    assert status.channel_trade_no and len(status.channel_trade_no) == 21
    assert status.paid_at is not None and abs(status.paid_at - env.clock.now()) < timedelta(seconds=2)


def test_an_unpaid_order_reads_as_gone_after_its_pay_timeout(env: Env) -> None:
    adapter, _ = make_adapter(env)
    order = order_request(env)
    post_form(env, order, adapter)
    env.run(adapter.close(order.order_no))
    assert env.run(adapter.query(order.order_no)).state is OrderState.PAYING
    env.clock.advance(minutes=16)
    assert env.run(adapter.query(order.order_no)).state is OrderState.NOT_FOUND


def test_refusals_before_any_call(env: Env) -> None:
    adapter, _ = make_adapter(env)
    with pytest.raises(ChannelRejected) as wrong_method:
        env.run(adapter.create(order_request(env, Method.WECHAT_NATIVE)))
    assert wrong_method.value.code == "METHOD_UNSUPPORTED"
    with pytest.raises(ChannelRejected) as bad_no:
        env.run(adapter.query("TB-not-ours"))
    assert bad_no.value.code == "ORDER_NO_INVALID"
    with pytest.raises(ChannelRejected):
        env.run(adapter.charge(order_request(env)))


def test_processing_then_success(env: Env) -> None:
    adapter, _ = make_adapter(env)
    order = order_request(env)
    post_form(env, order, adapter)
    pay(env, order.order_no)
    env.faults({"endpoint": "query", "kind": "processing", "rate": 1.0, "polls": 1})
    assert env.run(adapter.query(order.order_no)).state is OrderState.PAYING
    assert env.run(adapter.query(order.order_no)).state is OrderState.SUCCEEDED


@pytest.mark.parametrize(
    ("rule", "code"),
    [
        ({"kind": "error_5xx"}, "http_500"),
        ({"kind": "system_error"}, "respCode_03"),
        ({"kind": "timeout", "hang_s": 2.0}, "timeout"),
    ],
)
def test_unknown_outcomes(env: Env, rule: dict[str, Any], code: str) -> None:
    adapter, _ = make_adapter(env, timeout_s=0.5)
    env.faults({"endpoint": "query", "rate": 1.0, **rule})
    with pytest.raises(ChannelUnknownOutcome) as raised:
        env.run(adapter.query(order_request(env).order_no))
    assert raised.value.code == code


def test_an_answer_that_does_not_verify_is_an_unknown_outcome(env: Env) -> None:
    adapter, mer_id = make_adapter(env)
    cert_id = env.sim.identity.cert_id

    async def forged(request: Request) -> PlainTextResponse:
        form = protocol.parse_form(await request.body())
        answer = {"merId": mer_id, "orderId": form["orderId"], "respCode": "00", "origRespCode": "00"}
        signed = protocol.signed(samples.new_rsa_key(), cert_id, {**answer, "txnAmt": "1", "queryId": "1"})
        return PlainTextResponse(protocol.encode_answer(signed))

    fake = LiveServer(Starlette(routes=[Route(protocol.QUERY_PATH, forged, methods=["POST"])])).start()
    try:
        liar, _ = make_adapter(env, mer_id=mer_id, base_url=fake.url)
        with pytest.raises(ChannelUnknownOutcome) as raised:
            env.run(liar.query(order_request(env).order_no))
        assert raised.value.code == "bad_signature"
    finally:
        fake.stop()
    # An adapter configured with another UnionPay certificate believes nothing the simulator says.
    other_pem = samples.self_signed_certificate(samples.new_rsa_key(), "not UnionPay")
    doubter, _ = make_adapter(env, config={"mer_id": mer_id, "unionpay_certificate_pem": other_pem})
    with pytest.raises(ChannelUnknownOutcome):
        env.run(doubter.query(order_request(env).order_no))
    assert adapter.reply(True).status_code == 200


def captured_notify(env: Env, adapter: UnionPayAdapter) -> tuple[OrderRequest, bytes]:
    order = order_request(env, amount=1999)
    post_form(env, order, adapter)
    pay(env, order.order_no)
    path = f"/notify/{order.order_no}"
    received = wait_until(lambda: env.receiver.received(path))
    return order, received[0].body


def test_parse_a_real_back_notify(env: Env) -> None:
    adapter, _ = make_adapter(env)
    order, body = captured_notify(env, adapter)
    status = env.run(adapter.parse_notification({"content-type": "application/x-www-form-urlencoded"}, body))
    assert status.state is OrderState.SUCCEEDED and status.order_no == order.order_no
    assert (status.amount, status.currency) == (1999, "CNY") and status.channel_trade_no
    assert status.paid_at is not None


def test_notifications_that_cannot_be_believed_are_rejected(env: Env) -> None:
    adapter, mer_id = make_adapter(env)
    _, body = captured_notify(env, adapter)
    form = protocol.parse_form(body)

    def parse(fields: dict[str, str]) -> str:
        return rejection(env, adapter.parse_notification, fields)

    assert parse({**form, "txnAmt": "1"}) == "bad_signature"
    assert parse({**form, "certId": "42"}) == "bad_signature"
    sim_sign = env.sim.identity.sign
    assert parse(sim_sign({**form, "merId": "898310048999999"})) == "wrong_merchant"
    assert parse(sim_sign({**form, "txnAmt": "12.50"})) == "malformed"
    assert parse(sim_sign({**form, "orderId": "ABCDEFGH12"})) == "malformed"
    with pytest.raises(NotificationRejected):
        env.run(adapter.parse_notification({}, b"\xff\xfe"))
    failed = env.run(
        adapter.parse_notification({}, protocol.encode_form(sim_sign({**form, "respCode": "01"})).encode())
    )
    assert failed.state is OrderState.FAILED


def test_reply_format(env: Env) -> None:
    adapter, _ = make_adapter(env)
    ok = adapter.reply(True)
    assert (ok.status_code, ok.body, ok.media_type) == (200, b"ok", "text/plain")
    refused = adapter.reply(False, "bad signature")
    assert refused.status_code == 400 and b"bad signature" in refused.body


@given(st.integers(min_value=0, max_value=10**17))
def test_fen_strings_round_trip(fen: int) -> None:
    assert string_to_fen(fen_to_string(fen)) == fen


# Hypothesis takes naive bounds and attaches the zone itself.
@given(
    st.datetimes(
        min_value=datetime(2000, 1, 2),  # noqa: DTZ001
        max_value=datetime(2099, 12, 30),  # noqa: DTZ001
        timezones=st.just(UTC),
    )
)
def test_txn_time_round_trips_in_beijing_time(moment: datetime) -> None:
    moment = moment.replace(microsecond=0)
    text = protocol.format_time(moment)
    assert len(text) == 14 and text.isdigit()
    assert protocol.parse_time(text) == moment
    assert protocol.trace_moment(text[4:], text) == moment


def test_order_numbers_map_reversibly_and_carry_their_txn_time() -> None:
    order_no = new_id("attempt")
    order_id = protocol.order_id(order_no)
    assert "_" not in order_id and 8 <= len(order_id) <= 40
    assert protocol.order_no(order_id) == order_no
    sent = protocol.parse_time(protocol.txn_time(order_no))
    assert abs(sent - datetime.now(UTC)) < timedelta(seconds=5)
    assert protocol.trace_moment("0101000001", "20261231235959") == protocol.parse_time("20270101000001")
