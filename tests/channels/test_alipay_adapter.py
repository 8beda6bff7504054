"""The Alipay adapter against the real simulator, over HTTP, mounted below a prefix.

The adapter's coroutines run on the server's event loop, where its HTTP client lives.
"""

from __future__ import annotations

import dataclasses
import json
import secrets
import threading
import time
from collections.abc import Coroutine, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar
from urllib.parse import parse_qsl, urlencode, urlsplit

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Route

from tests.support.live_server import LiveServer
from tongbao.channels.alipay import protocol
from tongbao.channels.alipay.adapter import AlipayAdapter
from tongbao.channels.base import (
    ChannelRejected,
    ChannelUnknownOutcome,
    Method,
    NotificationRejected,
    OrderAlreadyPaid,
    OrderRequest,
    OrderState,
    Reply,
)
from tongbao.clock import SystemClock
from tongbao.money import fen_to_yuan, yuan_to_fen
from tongbao.security import samples
from tongbao.simulators.alipay import AlipaySimulator, create_alipay_simulator
from tongbao.simulators.faults import FaultPlan

T = TypeVar("T")
PREFIX = "/sim/alipay"


class Notifications:
    """A merchant's notify endpoint that records every body and answers ``success``."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.seen: dict[str, bytes] = {}
        self.app = Starlette(routes=[Route("/notify/{tag}", self._notify, methods=["POST"])])

    async def _notify(self, request: Request) -> Response:
        body = await request.body()
        with self._lock:
            self.seen.setdefault(request.path_params["tag"], body)
        return Response(b"success", media_type="text/plain")

    def wait_for(self, tag: str, timeout_s: float = 5.0) -> bytes:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            with self._lock:
                if tag in self.seen:
                    return self.seen[tag]
            time.sleep(0.01)
        raise AssertionError(f"no notification for {tag}")


@dataclass
class Env:
    sim: AlipaySimulator
    server: LiveServer
    notifications: Notifications
    notify_base: str
    clients: list[httpx.AsyncClient] = field(default_factory=list)

    @property
    def gateway(self) -> str:
        return f"{self.server.url}{PREFIX}/gateway.do"

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        return self.server.run(coro, timeout_s=30)

    def faults(self, *rules: dict[str, Any]) -> None:
        plan = FaultPlan.from_json({"seed": 5, "rules": list(rules)})

        async def install() -> None:
            self.sim.faults.install(plan)

        self.run(install())


@pytest.fixture(scope="module")
def env() -> Iterator[Env]:
    sim_app = create_alipay_simulator(callback_schedule_s=(0.05,), http_timeout_s=2.0)
    sim: AlipaySimulator = sim_app.state.simulator
    server = LiveServer(Starlette(routes=[Mount(PREFIX, app=sim_app)])).start()
    notifications = Notifications()
    notify_server = LiveServer(notifications.app).start()
    try:
        yield Env(sim, server, notifications, notify_server.url)
    finally:
        server.run(sim.aclose())
        server.stop()
        notify_server.stop()


@pytest.fixture(autouse=True)
def _clean(env: Env) -> Iterator[None]:
    yield
    env.run(_clear(env.sim))
    clients, env.clients[:] = list(env.clients), []
    for client in clients:
        env.run(client.aclose())


async def _clear(sim: AlipaySimulator) -> None:
    sim.faults.clear()


@dataclass
class Account:
    env: Env
    adapter: AlipayAdapter
    app_id: str
    merchant_key: Any

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        return self.env.run(coro)

    def control(self, verb: str, path: str, **kwargs: Any) -> httpx.Response:
        with httpx.Client(timeout=10, trust_env=False) as http:
            return http.request(verb, f"{self.env.server.url}{PREFIX}/_control{path}", **kwargs)

    def pay(self, order_no: str, **extra: Any) -> dict[str, Any]:
        response = self.control(
            "POST", "/pay", json={"out_trade_no": order_no, "app_id": self.app_id, **extra}
        )
        assert response.status_code == 200, response.text
        return dict(response.json())


def open_account(env: Env, *, timeout_s: float = 5.0, alipay_key_pem: str | None = None) -> Account:
    key = samples.new_rsa_key()
    app_id = "2021" + "".join(secrets.choice("0123456789") for _ in range(12))

    async def build() -> AlipayAdapter:
        answer = env.sim.register_merchant(app_id, samples.public_pem(key))
        http = httpx.AsyncClient(timeout=httpx.Timeout(timeout_s), trust_env=False)
        env.clients.append(http)
        return AlipayAdapter(
            account_id=f"chacc_{app_id}",
            base_url=env.gateway,
            config={
                "app_id": app_id,
                "alipay_public_key_pem": alipay_key_pem or answer["alipay_public_key_pem"],
            },
            credentials={"app_private_key_pem": samples.private_pem(key)},
            http=http,
            clock=SystemClock(),
        )

    return Account(env, env.run(build()), app_id, key)


@pytest.fixture
def account(env: Env) -> Account:
    return open_account(env)


def order_request(account: Account, method: Method = Method.ALIPAY_QR, **changes: Any) -> OrderRequest:
    order_no = f"TB{secrets.token_hex(8)}"
    request = OrderRequest(
        order_no=order_no,
        method=method,
        amount=1234,
        currency="CNY",
        subject="通宝测试",
        notify_url=f"{account.env.notify_base}/notify/{order_no}",
        expires_at=datetime.now(UTC) + timedelta(hours=1),
    )
    return dataclasses.replace(request, **changes)


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
