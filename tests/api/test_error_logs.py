"""What failures leave in the log: a plain traceback under the request id, and no secrets."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tongbao.client import TongbaoClient, encode_json

from ..support.crashing import CRASH_OPERATOR, CRASH_SIGNED
from ..support.factories import active_merchant, create_app, error_of
from ..support.stack import ADMIN_TOKEN, Stack
from .conftest import ServerLog


@pytest.fixture
def app(tongbao: Stack, admin: httpx.Client) -> dict[str, Any]:
    merchant = active_merchant(admin)
    return create_app(admin, merchant["id"])


@pytest.fixture
def client(crashing: str, app: dict[str, Any]) -> Iterator[TongbaoClient]:
    with TongbaoClient(crashing, app["id"], app["secret"], timeout_s=30) as made:
        yield made


def test_no_error_path_logs_a_secret(
    crashing: str, client: TongbaoClient, app: dict[str, Any], server_log: ServerLog
) -> None:
    server_log.start()
    operator = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    wrong_secret = TongbaoClient(crashing, app["id"], ADMIN_TOKEN)
    answers = {
        "crash, signed": (client.post(CRASH_SIGNED, {"n": 1}, verify=False), 500),
        "crash, operator": (httpx.get(f"{crashing}{CRASH_OPERATOR}", headers=operator, timeout=30), 500),
        "wrong app secret": (wrong_secret.get("/v1/me", verify=False), 401),
        "no signature": (httpx.get(f"{crashing}/v1/me", timeout=30), 401),
        "the app secret as operator token": (
            httpx.get(f"{crashing}/admin/v1/merchants", headers={"Authorization": f"Bearer {app['secret']}"}),
            401,
        ),
        "validation, signed": (client.post("/v1/echo", ["not", "an", "object"]), 400),
        "validation, operator": (
            httpx.post(f"{crashing}/admin/v1/apps", json={"merchant_id": ADMIN_TOKEN}, headers=operator),
            400,
        ),
        "bad JSON, operator": (
            httpx.post(
                f"{crashing}/admin/v1/merchants",
                content=encode_json({"name": app["secret"]})[:-1],
                headers={**operator, "Content-Type": "application/json"},
            ),
            400,
        ),
    }
    wrong_secret.close()
    for name, (response, status) in answers.items():
        assert response.status_code == status, name
    crash_ids = [
        answers[name][0].json()["error"]["request_id"] for name in ("crash, signed", "crash, operator")
    ]
    logged = server_log.wait_for(lambda text: all(i in text for i in crash_ids))
    time.sleep(0.2)  # anything else logged on the way
    logged = server_log.read()
    for secret in (app["secret"], ADMIN_TOKEN, ADMIN_TOKEN.removeprefix("tbo_")):
        assert secret not in logged
    # The tracebacks are there, as plain text.
    assert "the key" in logged and "RuntimeError" in logged
    assert "Traceback (most recent call last)" in logged or server_log.json
    # One line per crash, naming its request id.
    unhandled = server_log.unhandled()
    assert len(unhandled) == 2
    for request_id, entry in zip(crash_ids, unhandled, strict=True):
        assert request_id in (entry.get("request_id") or entry["line"])


@pytest.mark.parametrize("server_log", [True], ids=["json-log"], indirect=True)
def test_json_logs_carry_the_traceback(client: TongbaoClient, server_log: ServerLog) -> None:
    server_log.start()
    crashed = client.post(CRASH_SIGNED, {"n": 1}, verify=False)
    request_id = error_of(crashed, 500)["request_id"]
    server_log.wait_for(lambda text: request_id in text)
    (entry,) = server_log.unhandled()
    assert entry["request_id"] == request_id and entry["level"] == "error"
    assert "exc_info" not in entry
    (exception,) = entry["exception"]
    assert (exception["exc_type"], exception["exc_value"]) == (
        "RuntimeError",
        "the key [redacted] was refused",
    )
    assert exception["frames"][-1]["name"] == "crash_signed"
    assert all("locals" not in frame for frame in exception["frames"])


def test_health_answers_promptly_while_crashes_are_handled(
    crashing: str, client: TongbaoClient, server_log: ServerLog
) -> None:
    server_log.start()
    crashes: list[httpx.Response] = []

    def crash_a_few() -> None:
        for n in range(3):
            crashes.append(client.post(CRASH_SIGNED, {"n": n}, verify=False))

    crasher = threading.Thread(target=crash_a_few)
    slowest = 0.0
    with httpx.Client(base_url=crashing, timeout=30) as anonymous:
        crasher.start()
        checks = 0
        while crasher.is_alive() or checks < 5:
            started = time.monotonic()
            assert anonymous.get("/healthz").status_code == 200
            slowest = max(slowest, time.monotonic() - started)
            checks += 1
        crasher.join()
    assert [c.status_code for c in crashes] == [500, 500, 500]
    assert slowest < 0.5, f"/healthz took {slowest:.2f} s while errors were logged"
