"""The WeChat Pay simulator mounted below a prefix and served over HTTP, with a callback receiver,
merchant accounts, adapters and orders at it: the environment the WeChat Pay adapter tests share.
Holds no tests; the fixtures register by import."""

from __future__ import annotations

import dataclasses
import functools
import itertools
import secrets
import threading
import time
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Route

from tests.support.live_server import LiveServer
from tongbao.channels.base import Action, OrderRequest
from tongbao.channels.kinds import Method
from tongbao.channels.wechatpay.adapter import WeChatPayAdapter
from tongbao.channels.wechatpay.platform_keys import CertificateCache
from tongbao.clock import SystemClock
from tongbao.security import samples
from tongbao.simulators.faults import FaultPlan
from tongbao.simulators.wechatpay import WeChatPaySimulator, create_wechatpay_simulator
from tongbao.simulators.wechatpay.gateway_errors import WeChatApiError
from tongbao.simulators.wechatpay.state_models import Order

T = TypeVar("T")
PREFIX = "/wx"
_mchids = itertools.count(1)


@functools.cache
def stranger_key() -> rsa.RSAPrivateKey:
    """An RSA key that is not the simulator's platform key."""
    return samples.new_rsa_key()


# -- a merchant's notify endpoint --------------------------------------------------------------------


@dataclass(frozen=True)
class Captured:
    headers: dict[str, str]
    body: bytes

    def headers_for_adapter(self, **changes: str) -> httpx.Headers:
        """Case-insensitive, as the callback endpoint hands them over; ``changes`` replace some."""
        headers = httpx.Headers(self.headers)
        for name, value in changes.items():
            headers[name.replace("_", "-")] = value
        return headers


class CallbackReceiver:
    """Records every POST to ``/notify/{tag}`` and acknowledges it with 204."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._seen: dict[str, list[Captured]] = {}
        self.app = Starlette(routes=[Route("/notify/{tag}", self._notify, methods=["POST"])])

    async def _notify(self, request: Request) -> Response:
        body = await request.body()
        with self._lock:
            self._seen.setdefault(request.path_params["tag"], []).append(
                Captured(dict(request.headers), body)
            )
        return Response(status_code=204)

    def wait_for(self, tag: str, timeout_s: float = 5.0) -> Captured:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            with self._lock:
                if self._seen.get(tag):
                    return self._seen[tag][0]
            time.sleep(0.01)
        raise AssertionError(f"no callback arrived for {tag}")


# -- the running simulator ---------------------------------------------------------------------------


@dataclass
class Env:
    sim: WeChatPaySimulator
    server: LiveServer
    receiver: CallbackReceiver
    receiver_url: str
    clients: list[httpx.AsyncClient] = field(default_factory=list)

    @property
    def base_url(self) -> str:
        return f"{self.server.url}{PREFIX}"

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        return self.server.run(coro, timeout_s=30)

    def on_loop(self, fn: Callable[[], T]) -> T:
        """Runs plain simulator code on the server's loop (paying starts the callback task there)."""

        async def call() -> T:
            return fn()

        return self.run(call())

    def notify_url(self, tag: str) -> str:
        return f"{self.receiver_url}/notify/{tag}"

    def faults(self, *rules: dict[str, Any], seed: int = 7) -> None:
        plan = FaultPlan.from_json({"seed": seed, "rules": list(rules)})
        self.on_loop(lambda: self.sim.faults.install(plan))

    def clear_faults(self) -> None:
        self.on_loop(self.sim.faults.clear)

    def calls(self) -> dict[str, int]:
        """Calls per endpoint since the last plan was installed (counted only while one is)."""
        return dict(self.on_loop(self.sim.faults.plan_json).get("calls", {}))


def running_env(**options: Any) -> Iterator[Env]:
    """The simulator, given ``options`` on top of the usual ones, and a callback receiver: both run
    until the generator is resumed past its one ``yield``."""
    sim_app = create_wechatpay_simulator(callback_schedule_s=(0.05, 0.05), http_timeout_s=2.0, **options)
    sim: WeChatPaySimulator = sim_app.state.simulator
    server = LiveServer(Starlette(routes=[Mount(PREFIX, app=sim_app)])).start()
    receiver = CallbackReceiver()
    receiver_server = LiveServer(receiver.app).start()
    try:
        yield Env(sim, server, receiver, receiver_server.url)
    finally:
        # A mounted app gets no lifespan: its callbacks and stalled requests end here.
        server.run(sim.aclose())
        server.stop()
        receiver_server.stop()


@pytest.fixture(name="env", scope="module")
def env_fixture() -> Iterator[Env]:
    yield from running_env()


@pytest.fixture(autouse=True)
def clean_env(env: Env) -> Iterator[None]:
    """After each test: no faults left installed, and the adapters' HTTP clients closed."""
    yield
    env.clear_faults()
    clients, env.clients[:] = list(env.clients), []
    for client in clients:
        env.run(client.aclose())


# -- accounts and orders -----------------------------------------------------------------------------


@dataclass
class Account:
    env: Env
    adapter: WeChatPayAdapter
    key: rsa.RSAPrivateKey
    mchid: str
    appid: str
    apiv3_key: str
    platform: dict[str, str]

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        return self.env.run(coro)

    def order(self, order_no: str) -> Order:
        return self.env.on_loop(lambda: self.env.sim.order(self.mchid, order_no))

    def has_order(self, order_no: str) -> bool:
        try:
            self.order(order_no)
        except WeChatApiError as exc:
            assert exc.code == "ORDER_NOT_EXIST"
            return False
        return True

    def pay(self, order_no: str) -> Order:
        return self.env.on_loop(lambda: self.env.sim.pay(self.env.sim.order(self.mchid, order_no)))


def open_account(
    env: Env,
    *,
    verification: str = "public_key",
    timeout_s: float = 5.0,
    platform_public_key_pem: str | None = None,
    certificates: CertificateCache | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
) -> Account:
    """A merchant registered at the simulator and an adapter configured for it."""
    key = samples.new_rsa_key()
    mchid, appid = f"1999{next(_mchids):06d}", f"wx{secrets.token_hex(8)}"
    serial_no, apiv3 = secrets.token_hex(20).upper(), secrets.token_hex(16)
    platform = env.on_loop(
        lambda: env.sim.register_merchant(
            mchid,
            appid,
            serial_no,
            samples.public_pem(key),
            apiv3_key=apiv3,
            platform_verification=verification,
        )
    )
    config = {"mchid": mchid, "appid": appid, "merchant_serial_no": serial_no}
    if verification == "public_key":
        config["platform_public_key_id"] = platform["platform_public_key_id"]
        config["platform_public_key_pem"] = platform_public_key_pem or platform["platform_public_key_pem"]

    async def build() -> WeChatPayAdapter:
        http = httpx.AsyncClient(timeout=httpx.Timeout(timeout_s), trust_env=False, transport=transport)
        env.clients.append(http)
        return WeChatPayAdapter(
            account_id=f"chacc_{mchid}",
            base_url=env.base_url,
            config=config,
            credentials={"private_key_pem": samples.private_pem(key), "apiv3_key": apiv3},
            http=http,
            clock=SystemClock(),
            certificates=certificates if certificates is not None else CertificateCache(),
        )

    return Account(env, env.run(build()), key, mchid, appid, apiv3, platform)


@pytest.fixture(name="account")
def account_fixture(env: Env) -> Account:
    return open_account(env)


def new_order_no() -> str:
    return f"TB{secrets.token_hex(8)}"


def order_request(env: Env, method: Method = Method.WECHAT_NATIVE, **changes: Any) -> OrderRequest:
    order_no = changes.pop("order_no", None) or new_order_no()
    request = OrderRequest(
        order_no=order_no,
        method=method,
        amount=100,
        currency="CNY",
        subject="Tongbao test goods",
        notify_url=env.notify_url(order_no),
        expires_at=datetime.now(UTC) + timedelta(hours=1),
        client_ip="203.0.113.7" if method is Method.WECHAT_H5 else None,
        payer_openid="oTongbaoTestPayer000000000001" if method is Method.WECHAT_JSAPI else None,
    )
    return dataclasses.replace(request, **changes)


def create(account: Account, method: Method = Method.WECHAT_NATIVE, **changes: Any) -> tuple[str, Action]:
    request = order_request(account.env, method, **changes)
    return request.order_no, account.run(account.adapter.create(request))
