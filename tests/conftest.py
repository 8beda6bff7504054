from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from tongbao.client import TongbaoClient

from .support.databases import backends, throwaway_database
from .support.receiver import Receiver
from .support.stack import ADMIN_TOKEN, Stack, start_stack
from .support.wechat import WeChatMerchant, wechat_merchant


@pytest.fixture(scope="session", params=backends())
def stack(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    backend: str = request.param
    workdir = tmp_path_factory.mktemp(f"stack-{backend}")
    with throwaway_database(backend, workdir) as url:
        running = start_stack(backend, url, workdir)
        try:
            yield running
        finally:
            running.server.stop()


@pytest.fixture
def tongbao(stack: Stack) -> Stack:
    """The running Tongbao with empty tables and one operator."""
    stack.reset()
    return stack


@pytest.fixture
def stopped_clock(tongbao: Stack) -> Stack:
    """The running Tongbao with its clock stopped: time moves only when the test moves it, so margins
    of a second hold however slow the machine is."""
    tongbao.clock.stop()
    return tongbao


@pytest.fixture
def admin(tongbao: Stack) -> Iterator[httpx.Client]:
    with httpx.Client(
        base_url=tongbao.url, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}, timeout=30
    ) as client:
        yield client


@pytest.fixture
def anonymous(tongbao: Stack) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=tongbao.url, timeout=30) as client:
        yield client


@pytest.fixture
def make_client(tongbao: Stack) -> Iterator[Callable[..., TongbaoClient]]:
    """``make_client(app_id, secret, **kwargs)``: signed clients, closed after the test."""
    made: list[TongbaoClient] = []

    def make(app_id: str, secret: str, **kwargs: Any) -> TongbaoClient:
        client = TongbaoClient(tongbao.url, app_id, secret, **kwargs)
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A merchant's notify endpoint that records what arrives."""
    running = Receiver().start()
    yield running
    running.stop()


@pytest.fixture
def shop(tongbao: Stack, admin: httpx.Client, receiver: Receiver) -> Iterator[WeChatMerchant]:
    """An active merchant taking WeChat Pay through the simulator, notified at ``receiver``."""
    made = wechat_merchant(tongbao, admin, notify_url=receiver.url)
    yield made
    made.client.close()
