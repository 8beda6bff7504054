"""The Alipay simulator's asynchronous notifications: signed form POSTs, retried until ``success``."""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.support.live_server import LiveServer
from tests.support.waiting import wait_until
from tongbao.channels.alipay import protocol

from .test_alipay_support import AlipayApp, Received, Receiver, Running, start_simulator


@pytest.fixture(scope="module")
def alipay() -> Iterator[Running]:
    running = start_simulator(True, callback_schedule_s=(0.05, 0.05, 0.05), http_timeout_s=1.0)
    yield running
    running.server.stop()


@pytest.fixture(scope="module")
def receiver() -> Iterator[tuple[Receiver, str]]:
    receiver = Receiver()
    server = LiveServer(receiver.app).start()
    yield receiver, server.url
    server.stop()


@pytest.fixture
def app(alipay: Running) -> Iterator[AlipayApp]:
    with httpx.Client(timeout=10, trust_env=False) as http:
        yield AlipayApp(alipay, http).register()
        http.delete(f"{alipay.base_url}/_control/faults")


def wait_for(receiver: Receiver, path: str, count: int, timeout_s: float = 5.0) -> list[Received]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        got = receiver.received(path)
        if len(got) >= count:
            return got
        time.sleep(0.01)
    raise AssertionError(f"{len(receiver.received(path))} notifications, wanted {count}")


def paid(app: AlipayApp, receiver: tuple[Receiver, str], **pay: Any) -> tuple[str, str]:
    path = f"/notify/{secrets.token_hex(6)}"
    order_no = f"TB{secrets.token_hex(8)}"
    app.precreate(order_no, "12.34", notify_url=receiver[1] + path)
    response = app.control("POST", "/pay", json={"out_trade_no": order_no, **pay})
    assert response.status_code == 200, response.text
    return order_no, path


def test_a_paid_trade_is_notified_with_a_signed_form(app: AlipayApp, receiver: tuple[Receiver, str]) -> None:
    order_no, path = paid(app, receiver)
    [note] = wait_for(receiver[0], path, 1)
    assert note.headers["content-type"].startswith("application/x-www-form-urlencoded")
    params = note.params
    assert params["out_trade_no"] == order_no
    assert params["trade_status"] == "TRADE_SUCCESS" and params["total_amount"] == "12.34"
    assert params["notify_type"] == "trade_status_sync" and params["app_id"] == app.app_id
    assert params["sign_type"] == "RSA2" and params["subject"] == "测试商品"
    assert app.alipay_key is not None
    assert protocol.verify_params(app.alipay_key, params, notification=True)
    assert not protocol.verify_params(app.alipay_key, {**params, "total_amount": "12.35"}, notification=True)
    # The simulator logs the delivery once the answer is back, a moment after the receiver has it.
    deadline = time.monotonic() + 5
    while not (record := app.control("GET", f"/orders/{order_no}").json())["notifications"]:
        assert time.monotonic() < deadline, record
        time.sleep(0.02)
    assert record["notifications"][0]["answer"] == "success"


def test_anything_but_success_is_retried_on_the_schedule(
    app: AlipayApp, receiver: tuple[Receiver, str], alipay: Running
) -> None:
    path = f"/notify/{secrets.token_hex(6)}"
    receiver[0].answer(path, b"fail", b"SUCCESS ")
    order_no = f"TB{secrets.token_hex(8)}"
    app.precreate(order_no, notify_url=receiver[1] + path)
    app.control("POST", "/pay", json={"out_trade_no": order_no})
    notes = wait_for(receiver[0], path, 3)
    assert len({n.params["notify_id"] for n in notes}) == 1  # the same notification, again
    alipay.server.run(alipay.sim.wait_callbacks())
    assert len(receiver[0].received(path)) == 3
    log = app.control("GET", f"/orders/{order_no}").json()["notifications"]
    assert [entry["answer"] for entry in log] == ["fail", "SUCCESS ", "success"]


def test_an_unreachable_endpoint_is_given_up_after_the_schedule(app: AlipayApp, alipay: Running) -> None:
    order_no = f"TB{secrets.token_hex(8)}"
    app.precreate(order_no, notify_url="http://127.0.0.1:9/notify")
    app.control("POST", "/pay", json={"out_trade_no": order_no})
    alipay.server.run(alipay.sim.wait_callbacks())
    log = app.control("GET", f"/orders/{order_no}").json()["notifications"]
    assert len(log) == 4 and all(entry["error"] for entry in log)


def test_callback_faults_lost_duplicate_and_wrong_amount(
    app: AlipayApp, receiver: tuple[Receiver, str]
) -> None:
    def plan(kind: str, **params: Any) -> None:
        rule = {"endpoint": "callback", "kind": kind, "rate": 1.0, **params}
        app.control("PUT", "/faults", json={"seed": 3, "rules": [rule]})

    plan("lost")
    order_no, path = paid(app, receiver)
    # Once the simulator has logged the callback as lost, it has nothing more to send.
    log = wait_until(lambda: app.control("GET", f"/orders/{order_no}").json()["notifications"])
    assert "lost" in log[0]["error"]
    assert receiver[0].received(path) == []
    plan("duplicate", copies=3)
    _, path = paid(app, receiver)
    assert len(wait_for(receiver[0], path, 3)) == 3
    plan("wrong_amount", delta=-34)
    _, path = paid(app, receiver)
    assert wait_for(receiver[0], path, 1)[0].params["total_amount"] == "12.00"


def test_paying_another_amount_reports_what_was_paid(app: AlipayApp, receiver: tuple[Receiver, str]) -> None:
    order_no, path = paid(app, receiver, amount=1000)
    assert wait_for(receiver[0], path, 1)[0].params["total_amount"] == "10.00"
    assert app.control("POST", "/pay", json={"out_trade_no": order_no}).status_code == 409


def test_the_control_api_counts_callbacks_still_to_send_and_when_the_next_retry_is_due() -> None:
    slow = start_simulator(True, callback_schedule_s=(30.0,), http_timeout_s=1.0)
    try:
        with httpx.Client(timeout=10, trust_env=False) as http:
            app = AlipayApp(slow, http).register()
            order_no = f"TB{secrets.token_hex(8)}"
            app.precreate(order_no, notify_url="http://127.0.0.1:9/notify")  # nobody listens
            app.control("POST", "/pay", json={"out_trade_no": order_no})
            wait_until(lambda: app.control("GET", "/callbacks").json()["retrying"] == 1)
            counted = app.control("GET", "/callbacks").json()
            assert counted["pending"] == 1 and 20 < counted["next_retry_in_s"] <= 30
    finally:
        slow.server.stop()  # the simulator's close cancels the waiting retry
