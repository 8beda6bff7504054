"""The Alipay simulator mounted below a prefix and served over HTTP, with accounts and adapters at it:
the environment the Alipay adapter tests share. Holds no tests; the fixtures register by import."""

from __future__ import annotations

import dataclasses
import secrets
import threading
import time
from collections.abc import Coroutine, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Route

from tests.support.live_server import LiveServer
from tongbao.channels.alipay.adapter import AlipayAdapter
from tongbao.channels.base import OrderRequest
from tongbao.channels.kinds import Method
from tongbao.clock import SystemClock
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


@pytest.fixture(name="env", scope="module")
def env_fixture() -> Iterator[Env]:
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
def clean_env(env: Env) -> Iterator[None]:
    """After each test: no faults left installed, and the adapters' HTTP clients closed."""
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


@pytest.fixture(name="account")
def account_fixture(env: Env) -> Account:
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
