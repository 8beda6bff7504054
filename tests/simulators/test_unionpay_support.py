"""Helpers for driving the UnionPay simulator over real HTTP, as a merchant's code and a payer's
browser would. Holds no tests; the fixtures are imported by the ``test_unionpay_*`` modules."""

from __future__ import annotations

import functools
import itertools
import re
from collections.abc import Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from starlette.applications import Starlette
from starlette.routing import Mount

from tongbao.channels.unionpay import protocol
from tongbao.ids import new_id
from tongbao.security import samples
from tongbao.simulators.unionpay import UnionPaySimulator, create_unionpay_simulator

from ..support.live_server import LiveServer
from .support import Receiver, wait_until

PREFIX = "/sim/unionpay"
TEST_SCHEDULE_S = (0.05, 0.05, 0.05)
_mer_ids = itertools.count(1)


@functools.cache
def merchant_identity() -> tuple[rsa.RSAPrivateKey, str]:
    key = samples.new_rsa_key()
    return key, samples.self_signed_certificate(key, "Tongbao test merchant")


@functools.cache
def stranger_key() -> rsa.RSAPrivateKey:
    return samples.new_rsa_key()


@dataclass
class Running:
    base_url: str
    sim: UnionPaySimulator
    server: LiveServer

    def on_loop(self, fn: Any) -> Any:
        async def call() -> Any:
            return fn()

        return self.server.run(call())


def start_simulator(mounted: bool, **options: Any) -> Running:
    app = create_unionpay_simulator(**options)
    sim: UnionPaySimulator = app.state.simulator
    if not mounted:
        server = LiveServer(app).start()
        return Running(server.url, sim, server)

    @asynccontextmanager
    async def lifespan(host: Starlette) -> Any:
        yield
        await sim.aclose()  # a mounted app's own lifespan never runs

    server = LiveServer(Starlette(routes=[Mount(PREFIX, app=app)], lifespan=lifespan)).start()
    return Running(server.url + PREFIX, sim, server)


@dataclass
class UpMerchant:
    """A merchant registered at the simulator: its signing key and certificate, and UnionPay's."""

    base_url: str
    mer_id: str = field(default_factory=lambda: f"777290058{next(_mer_ids):06d}")
    answer: dict[str, str] = field(default_factory=dict)

    @property
    def key(self) -> rsa.RSAPrivateKey:
        return merchant_identity()[0]

    @property
    def certificate_pem(self) -> str:
        return merchant_identity()[1]

    @property
    def cert_id(self) -> str:
        return protocol.cert_id(protocol.load_certificate(self.certificate_pem))

    @property
    def unionpay_key(self) -> rsa.RSAPublicKey:
        return protocol.certificate_key(protocol.load_certificate(self.answer["unionpay_certificate_pem"]))

    def register(self, client: httpx.Client) -> UpMerchant:
        response = client.post(
            f"{self.base_url}/_control/merchants",
            json={"mer_id": self.mer_id, "certificate_pem": self.certificate_pem},
        )
        assert response.status_code == 200, response.text
        self.answer = response.json()
        return self

    def sign(
        self, params: dict[str, str], *, key: rsa.RSAPrivateKey | None = None, cert_id: str = ""
    ) -> dict[str, str]:
        return protocol.signed(key or self.key, cert_id or self.cert_id, params)

    def front_params(self, order_id: str, back_url: str, amount: int = 1234, **extra: str) -> dict[str, str]:
        now = datetime.now(UTC)
        return {
            "version": "5.1.0",
            "encoding": "UTF-8",
            "signMethod": "01",
            "txnType": "01",
            "txnSubType": "01",
            "bizType": "000201",
            "channelType": "07",
            "accessType": "0",
            "merId": self.mer_id,
            "orderId": order_id,
            "txnTime": protocol.format_time(now),
            "txnAmt": str(amount),
            "currencyCode": "156",
            "frontUrl": "https://shop.example/return",
            "backUrl": back_url,
            "payTimeout": protocol.format_time(now + timedelta(minutes=30)),
            **extra,
        }

    def post_front(self, client: httpx.Client, fields: dict[str, str]) -> httpx.Response:
        return client.post(f"{self.base_url}{protocol.FRONT_PATH}", data=fields)

    def query(self, client: httpx.Client, order_id: str, txn_time: str, **sign: Any) -> dict[str, str]:
        params = {
            "version": "5.1.0",
            "encoding": "UTF-8",
            "signMethod": "01",
            "txnType": "00",
            "txnSubType": "00",
            "bizType": "000201",
            "accessType": "0",
            "merId": self.mer_id,
            "orderId": order_id,
            "txnTime": txn_time,
        }
        response = client.post(f"{self.base_url}{protocol.QUERY_PATH}", data=self.sign(params, **sign))
        assert response.status_code == 200, response.text
        return protocol.parse_answer(response.content)


def new_order_id() -> str:
    return protocol.order_id(new_id("attempt"))


def token_of(page: str) -> str:
    match = re.search(r'name="token" value="([^"]+)"', page)
    assert match is not None, page
    return match.group(1)


def notifies(receiver: Receiver, path: str, count: int) -> list[dict[str, str]]:
    """Every notify posted to ``path`` so far, read as a form, once at least ``count`` have come."""
    received = wait_until(lambda: len(receiver.received(path)) >= count and receiver.received(path))
    return [protocol.parse_form(item.body) for item in received]


def serving(mounted: bool, **options: Any) -> Iterator[Running]:
    """The simulator with the tests' schedule and timeout, and ``options`` on top, until resumed."""
    running = start_simulator(mounted, callback_schedule_s=TEST_SCHEDULE_S, http_timeout_s=1.0, **options)
    yield running
    running.server.stop()


@pytest.fixture(name="unionpay", scope="module", params=["root", "mounted"])
def unionpay_fixture(request: pytest.FixtureRequest) -> Iterator[Running]:
    yield from serving(request.param == "mounted")


@pytest.fixture(name="up_merchant")
def up_merchant_fixture(unionpay: Running, http: httpx.Client) -> Iterator[UpMerchant]:
    merchant = UpMerchant(unionpay.base_url).register(http)
    yield merchant
    http.delete(f"{unionpay.base_url}/_control/faults")
