"""Helpers for driving the Alipay simulator over real HTTP, as a merchant's code would. Holds no tests;
the fixtures are imported by the ``test_alipay_*`` modules."""

from __future__ import annotations

import json
import secrets
import threading
from collections.abc import Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Route

from tests.support.live_server import LiveServer
from tongbao.channels.alipay import protocol
from tongbao.security import samples
from tongbao.simulators.alipay import AlipaySimulator, create_alipay_simulator

PREFIX = "/sim/alipay"


@dataclass
class Running:
    base_url: str
    sim: AlipaySimulator
    server: LiveServer

    @property
    def gateway(self) -> str:
        return f"{self.base_url}/gateway.do"


def start_simulator(mounted: bool, **options: Any) -> Running:
    app = create_alipay_simulator(**options)
    sim: AlipaySimulator = app.state.simulator
    if not mounted:
        server = LiveServer(app).start()
        return Running(server.url, sim, server)

    @asynccontextmanager
    async def lifespan(host: Starlette) -> Any:
        yield
        await sim.aclose()

    host = Starlette(routes=[Mount(PREFIX, app=app)], lifespan=lifespan)
    server = LiveServer(host).start()
    return Running(server.url + PREFIX, sim, server)


@dataclass
class Answer:
    response: httpx.Response
    node_name: str
    node: dict[str, Any]
    signed_ok: bool


@dataclass
class AlipayApp:
    """A registered app: its key, Alipay's key as the simulator gave it, and a signing client."""

    running: Running
    http: httpx.Client
    key: rsa.RSAPrivateKey = field(default_factory=samples.new_rsa_key)
    app_id: str = field(
        default_factory=lambda: "2021" + "".join(secrets.choice("0123456789") for _ in range(12))
    )
    alipay_key: rsa.RSAPublicKey | None = None

    def register(self) -> AlipayApp:
        response = self.http.post(
            f"{self.running.base_url}/_control/merchants",
            json={"app_id": self.app_id, "public_key_pem": samples.public_pem(self.key)},
        )
        assert response.status_code == 200, response.text
        key = load_pem_public_key(response.json()["alipay_public_key_pem"].encode())
        assert isinstance(key, rsa.RSAPublicKey)
        self.alipay_key = key
        return self

    def params(self, method: str, biz: dict[str, Any], **extra: str) -> dict[str, str]:
        params = {
            "app_id": self.app_id,
            "method": method,
            "format": "JSON",
            "charset": "utf-8",
            "sign_type": "RSA2",
            "timestamp": protocol.format_time(datetime.now(UTC)),
            "version": "1.0",
            "biz_content": protocol.biz_json(biz),
            **extra,
        }
        return protocol.signed(self.key, params)

    def call(self, method: str, biz: dict[str, Any], *, in_query: bool = False, **extra: str) -> Answer:
        params = self.params(method, biz, **extra)
        if in_query:
            response = self.http.post(self.running.gateway, params=params)
        else:
            response = self.http.post(self.running.gateway, data=params)
        return parse_answer(response, method, self.alipay_key)

    def precreate(self, out_trade_no: str, amount: str = "1.00", notify_url: str = "", **biz: Any) -> Answer:
        content = {"out_trade_no": out_trade_no, "total_amount": amount, "subject": "测试商品", **biz}
        return self.call("alipay.trade.precreate", content, notify_url=notify_url)

    def control(self, verb: str, path: str, **kwargs: Any) -> httpx.Response:
        return self.http.request(verb, f"{self.running.base_url}/_control{path}", **kwargs)


def parse_answer(response: httpx.Response, method: str, key: rsa.RSAPublicKey | None) -> Answer:
    text = response.content.decode("utf-8")
    spans = protocol.top_level_spans(text)
    name = protocol.response_node(method)
    name = name if name in spans else "error_response"
    node_text = text[slice(*spans[name])]
    signature = json.loads(text[slice(*spans["sign"])])
    ok = key is not None and protocol.verify_text(key, node_text, signature)
    return Answer(response, name, json.loads(node_text), ok)


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def params(self) -> dict[str, str]:
        return dict(parse_qsl(self.body.decode("utf-8"), keep_blank_values=True))


class Receiver:
    """A merchant's notify endpoint: records every POST; answers ``success`` unless scripted otherwise."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._received: list[Received] = []
        self._scripts: dict[str, list[bytes]] = {}
        self.app = Starlette(routes=[Route("/notify/{name}", self._notify, methods=["POST"])])

    async def _notify(self, request: Request) -> Response:
        body = await request.body()
        with self._lock:
            self._received.append(Received(request.url.path, dict(request.headers), body))
            script = self._scripts.get(request.url.path, [])
            answer = script.pop(0) if script else b"success"
        return Response(answer, media_type="text/plain")

    def answer(self, path: str, *answers: bytes) -> None:
        with self._lock:
            self._scripts[path] = list(answers)

    def received(self, path: str) -> list[Received]:
        with self._lock:
            return [r for r in self._received if r.path == path]


def no(prefix: str = "TB") -> str:
    return f"{prefix}{secrets.token_hex(8)}"


@pytest.fixture(name="alipay", scope="module", params=["root", "mounted"])
def alipay_fixture(request: pytest.FixtureRequest) -> Iterator[Running]:
    running = start_simulator(request.param == "mounted", callback_schedule_s=(0.05,), http_timeout_s=1.0)
    yield running
    running.server.stop()


@pytest.fixture(name="app")
def app_fixture(alipay: Running, http: httpx.Client) -> Iterator[AlipayApp]:
    """A freshly registered app; any fault plan a test installs is removed afterwards."""
    registered = AlipayApp(alipay, http).register()
    yield registered
    http.delete(f"{alipay.base_url}/_control/faults")
