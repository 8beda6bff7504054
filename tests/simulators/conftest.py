from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from starlette.applications import Starlette
from starlette.routing import Mount

from tongbao.security import samples
from tongbao.simulators.wechatpay import WeChatPaySimulator, create_wechatpay_simulator

from ..support.live_server import LiveServer
from .support import Merchant, Receiver

PREFIX = "/sim/wechatpay"
TEST_SCHEDULE_S = (0.05, 0.05, 0.05)


@dataclass
class Running:
    base_url: str
    sim: WeChatPaySimulator
    server: LiveServer


def start_simulator(mounted: bool, **options: Any) -> Running:
    app = create_wechatpay_simulator(**options)
    sim: WeChatPaySimulator = app.state.simulator
    if not mounted:
        server = LiveServer(app).start()
        return Running(server.url, sim, server)

    @asynccontextmanager
    async def lifespan(host: Starlette) -> Any:
        # A mounted app's own lifespan never runs: the host closes the simulator.
        yield
        await sim.aclose()

    host = Starlette(routes=[Mount(PREFIX, app=app)], lifespan=lifespan)
    server = LiveServer(host).start()
    return Running(server.url + PREFIX, sim, server)


@pytest.fixture(scope="session")
def merchant_key() -> rsa.RSAPrivateKey:
    return samples.new_rsa_key()


@pytest.fixture(scope="module", params=["root", "mounted"])
def wechat(request: pytest.FixtureRequest) -> Iterator[Running]:
    running = start_simulator(
        request.param == "mounted", callback_schedule_s=TEST_SCHEDULE_S, http_timeout_s=1.0
    )
    yield running
    running.server.stop()


@pytest.fixture(scope="module")
def receiver() -> Iterator[tuple[Receiver, str]]:
    receiver = Receiver()
    server = LiveServer(receiver.app).start()
    yield receiver, server.url
    server.stop()


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=10, trust_env=False) as client:
        yield client


@pytest.fixture
def merchant(wechat: Running, merchant_key: rsa.RSAPrivateKey, http: httpx.Client) -> Iterator[Merchant]:
    """A freshly registered merchant; any fault plan a test installs is removed afterwards."""
    merchant = Merchant(wechat.base_url, merchant_key).register(http)
    yield merchant
    http.delete(f"{wechat.base_url}/_control/faults")


@pytest.fixture
def notify_path() -> str:
    return f"/notify/{secrets.token_hex(6)}"
