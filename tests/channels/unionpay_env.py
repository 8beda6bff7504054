"""The UnionPay simulator mounted below a prefix and served over HTTP, with a notify receiver,
adapters and orders at it: the environment the UnionPay adapter tests share. Holds no tests; the
fixtures register by import."""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable, Coroutine, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from starlette.applications import Starlette
from starlette.routing import Mount

from tests.simulators.support import ManualClock, Receiver
from tests.support.live_server import LiveServer
from tongbao.channels.base import NotificationRejected, OrderRequest
from tongbao.channels.kinds import Method
from tongbao.channels.unionpay import protocol
from tongbao.channels.unionpay.adapter import UnionPayAdapter
from tongbao.clock import SystemClock
from tongbao.ids import new_id
from tongbao.security import samples
from tongbao.simulators.faults import FaultPlan
from tongbao.simulators.unionpay import UnionPaySimulator, create_unionpay_simulator

T = TypeVar("T")
PREFIX = "/up"
_mer_ids = itertools.count(1)


@functools.cache
def merchant_identity() -> tuple[rsa.RSAPrivateKey, str]:
    key = samples.new_rsa_key()
    return key, samples.self_signed_certificate(key, "Tongbao test merchant")


@dataclass
class Env:
    sim: UnionPaySimulator
    clock: ManualClock
    server: LiveServer
    receiver: Receiver
    receiver_url: str
    clients: list[httpx.AsyncClient] = field(default_factory=list)

    @property
    def base_url(self) -> str:
        return f"{self.server.url}{PREFIX}"

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        return self.server.run(coro, timeout_s=30)

    def on_loop(self, fn: Any) -> Any:
        async def call() -> Any:
            return fn()

        return self.run(call())

    def faults(self, *rules: dict[str, Any]) -> None:
        plan = FaultPlan.from_json({"seed": 5, "rules": list(rules)})
        self.on_loop(lambda: self.sim.faults.install(plan))


def running_env(**options: Any) -> Iterator[Env]:
    """The simulator, given ``options`` on top of the usual ones, and a notify receiver: both run until
    the generator is resumed past its one ``yield``."""
    clock = ManualClock()
    app = create_unionpay_simulator(clock=clock, callback_schedule_s=(0.05,), http_timeout_s=2.0, **options)
    server = LiveServer(Starlette(routes=[Mount(PREFIX, app=app)])).start()
    receiver = Receiver()
    receiver_server = LiveServer(receiver.app).start()
    try:
        yield Env(app.state.simulator, clock, server, receiver, receiver_server.url)
    finally:
        server.run(app.state.simulator.aclose())
        server.stop()
        receiver_server.stop()


@pytest.fixture(name="env", scope="module")
def env_fixture() -> Iterator[Env]:
    yield from running_env()


@pytest.fixture(autouse=True)
def clean_env(env: Env) -> Iterator[None]:
    """After each test: no faults left installed, the clock back at now, the HTTP clients closed."""
    yield
    env.on_loop(env.sim.faults.clear)
    env.clock.moment = datetime.now(UTC)
    clients, env.clients[:] = list(env.clients), []
    for client in clients:
        env.run(client.aclose())


def make_adapter(
    env: Env,
    *,
    mer_id: str | None = None,
    config: dict[str, str] | None = None,
    base_url: str = "",
    timeout_s: float = 5.0,
) -> tuple[UnionPayAdapter, str]:
    key, certificate = merchant_identity()
    mer_id = mer_id or f"898310048{next(_mer_ids):06d}"
    answer = env.on_loop(lambda: env.sim.register_merchant(mer_id, certificate))

    async def build() -> UnionPayAdapter:
        http = httpx.AsyncClient(timeout=httpx.Timeout(timeout_s), trust_env=False)
        env.clients.append(http)
        return UnionPayAdapter(
            account_id=f"ca_{mer_id}",
            base_url=base_url or env.base_url,
            config=config
            or {"mer_id": mer_id, "unionpay_certificate_pem": answer["unionpay_certificate_pem"]},
            credentials={
                "signing_private_key_pem": samples.private_pem(key),
                "signing_certificate_pem": certificate,
            },
            http=http,
            clock=SystemClock(),
        )

    return env.run(build()), mer_id


def order_request(env: Env, method: Method = Method.UNIONPAY_WEB, amount: int = 2500) -> OrderRequest:
    order_no = new_id("attempt")
    return OrderRequest(
        order_no=order_no,
        method=method,
        amount=amount,
        currency="CNY",
        subject="Tongbao test goods",
        notify_url=f"{env.receiver_url}/notify/{order_no}",
        expires_at=env.clock.now() + timedelta(minutes=15),
        return_url="https://shop.example/return",
    )


def post_form(env: Env, order: OrderRequest, adapter: UnionPayAdapter) -> dict[str, str]:
    """What the cashier's auto-submitting form does: the payer's browser posts the fields."""
    action = env.run(adapter.create(order))
    response = httpx.post(action.data["url"], data=action.data["fields"], trust_env=False, timeout=10)
    assert response.status_code == 200, response.text
    return dict(action.data["fields"])


def pay(env: Env, order_no: str, amount: int | None = None) -> None:
    order_id = protocol.order_id(order_no)
    env.on_loop(lambda: env.sim.pay(env.sim.find_order({"out_trade_no": order_id}), amount=amount))


def rejection(
    env: Env, read: Callable[[Mapping[str, str], bytes], Coroutine[Any, Any, object]], fields: dict[str, str]
) -> str:
    """The code of the rejection ``read`` (one of the adapter's notify parsers) raises for these fields."""
    with pytest.raises(NotificationRejected) as raised:
        env.run(read({}, protocol.encode_form(fields).encode()))
    return raised.value.code
