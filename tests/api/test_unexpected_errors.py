"""An unexpected failure is answered at once, in the error shape, signed where the caller proved
who it is, logged once under its request id, and the connection stays open."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tongbao.client import TongbaoClient
from tongbao.security import signing

from ..support.crashing import CRASH_OPERATOR, CRASH_SIGNED
from ..support.factories import active_merchant, create_app, error_of, ok
from ..support.stack import ADMIN_TOKEN, Stack
from .conftest import ServerLog

INTERNAL = "an internal error occurred; nothing was lost"


def local_port(response: httpx.Response) -> int:
    """The client's side of the connection the response came on."""
    return int(response.extensions["network_stream"].get_extra_info("client_addr")[1])


@pytest.fixture
def app(tongbao: Stack, admin: httpx.Client) -> dict[str, Any]:
    merchant = active_merchant(admin)
    return create_app(admin, merchant["id"])


@pytest.fixture
def client(crashing: str, app: dict[str, Any]) -> Iterator[TongbaoClient]:
    with TongbaoClient(crashing, app["id"], app["secret"], timeout_s=30) as made:
        yield made


def test_a_crash_after_authentication_is_signed_shaped_and_keeps_the_connection(
    client: TongbaoClient, server_log: ServerLog
) -> None:
    server_log.start()
    started = time.monotonic()
    crashed = client.post(CRASH_SIGNED, {"n": 1})
    assert time.monotonic() - started < 2
    client.verify_signed(crashed.headers, crashed.content)  # the caller is known: the 500 is signed
    error = error_of(crashed, 500)
    assert error == {
        "code": "internal_error",
        "message": INTERNAL,
        "param": None,
        "request_id": crashed.headers["tongbao-request-id"],
    }
    assert crashed.headers["content-type"] == "application/json"
    after = client.get("/v1/me")
    assert ok(after)["app"]["id"] == client.app_id
    assert local_port(after) == local_port(crashed)  # the same keep-alive connection
    logged = server_log.wait_for(lambda text: error["request_id"] in text)
    assert len(server_log.unhandled()) == 1
    assert error["request_id"] in server_log.unhandled()[0].get("request_id", logged)
    assert server_log.asgi_errors == []


def test_a_crash_is_not_kept_for_its_idempotency_key(client: TongbaoClient, server_log: ServerLog) -> None:
    server_log.start()
    first = client.post(CRASH_SIGNED, {"n": 1}, idempotency_key="crash-1")
    again = client.post(CRASH_SIGNED, {"n": 1}, idempotency_key="crash-1")
    assert error_of(first, 500)["code"] == error_of(again, 500)["code"] == "internal_error"
    client.verify_signed(again.headers, again.content)
    assert "idempotent-replayed" not in again.headers
    assert first.headers["tongbao-request-id"] != again.headers["tongbao-request-id"]


def test_an_operator_crash_is_shaped_and_keeps_the_connection(
    tongbao: Stack, crashing: str, server_log: ServerLog
) -> None:
    server_log.start()
    with httpx.Client(
        base_url=crashing, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}, timeout=30
    ) as admin:
        started = time.monotonic()
        crashed = admin.get(CRASH_OPERATOR)
        assert time.monotonic() - started < 2
        error = error_of(crashed, 500)
        assert (error["code"], error["message"], error["param"]) == ("internal_error", INTERNAL, None)
        assert error["request_id"] == crashed.headers["tongbao-request-id"]
        assert signing.HEADER_SIGNATURE not in crashed.headers  # operators' answers are not signed
        after = admin.get("/admin/v1/merchants")
        assert ok(after)["data"] == []
        assert local_port(after) == local_port(crashed)
    server_log.wait_for(lambda text: error["request_id"] in text)
    assert len(server_log.unhandled()) == 1
    assert server_log.asgi_errors == []


def test_every_answer_carries_a_request_id(
    tongbao: Stack, crashing: str, client: TongbaoClient, server_log: ServerLog
) -> None:
    server_log.start()
    answers = [
        client.post(CRASH_SIGNED, {}),
        client.get("/v1/me"),
        client.get("/v1/nothing-here"),
        httpx.get(f"{crashing}/v1/me", timeout=30),
        httpx.get(f"{crashing}{CRASH_OPERATOR}", timeout=30),
        httpx.get(
            f"{crashing}{CRASH_OPERATOR}", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}, timeout=30
        ),
        httpx.get(f"{crashing}/healthz", timeout=30),
    ]
    ids = [answer.headers["tongbao-request-id"] for answer in answers]
    assert all(i.startswith("req_") for i in ids) and len(set(ids)) == len(ids)
