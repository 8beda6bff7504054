"""Payment notifications: delivery, signatures, retries, and the callback faults."""

from __future__ import annotations

from typing import Any

import httpx

from tongbao.channels.wechatpay import protocol

from .conftest import TEST_SCHEDULE_S, Running
from .support import Merchant, Receiver, new_out_trade_no, wait_until


def _paid_order(merchant: Merchant, http: httpx.Client, notify_url: str, **pay: object) -> str:
    out_trade_no = new_out_trade_no()
    created = merchant.create_native(http, out_trade_no, notify_url=notify_url, total=1999)
    assert created.status_code == 200, created.text
    paid = http.post(f"{merchant.base_url}/_control/pay", json={"out_trade_no": out_trade_no, **pay})
    assert paid.status_code == 200, paid.text
    return out_trade_no


def _record(merchant: Merchant, http: httpx.Client, out_trade_no: str) -> dict[str, Any]:
    return dict(http.get(f"{merchant.base_url}/_control/orders/{out_trade_no}").json())


def _faults(merchant: Merchant, http: httpx.Client, *rules: dict[str, Any], seed: int = 7) -> None:
    response = http.put(f"{merchant.base_url}/_control/faults", json={"seed": seed, "rules": list(rules)})
    assert response.status_code == 200, response.text


def test_a_paid_order_is_notified_signed_and_encrypted(
    merchant: Merchant, http: httpx.Client, receiver: tuple[Receiver, str], notify_path: str
) -> None:
    inbox, url = receiver
    out_trade_no = _paid_order(merchant, http, url + notify_path)
    [notification] = wait_until(lambda: inbox.received(notify_path))
    headers = notification.headers
    signed = protocol.message(headers["wechatpay-timestamp"], headers["wechatpay-nonce"], notification.body)
    assert protocol.verify(merchant.platform_key, signed, headers["wechatpay-signature"])
    assert headers["wechatpay-serial"] == merchant.platform["platform_public_key_id"]
    assert headers["wechatpay-signature-type"] == "WECHATPAY2-SHA256-RSA2048"

    body = notification.json()
    assert body["event_type"] == "TRANSACTION.SUCCESS" and body["resource_type"] == "encrypt-resource"
    assert body["summary"] == "支付成功" and body["create_time"].endswith("+08:00")
    resource = body["resource"]
    assert resource["original_type"] == "transaction" and len(resource["nonce"]) == 12
    transaction = merchant.decrypt(resource)
    assert transaction == merchant.query(http, out_trade_no).json()
    assert transaction["trade_state"] == "SUCCESS" and transaction["amount"]["total"] == 1999

    log = wait_until(lambda: _record(merchant, http, out_trade_no)["callbacks"])
    assert log[0]["status_code"] == 200 and log[0]["url"] == url + notify_path


def test_unanswered_notifications_are_retried_on_the_schedule(
    merchant: Merchant, http: httpx.Client, receiver: tuple[Receiver, str], notify_path: str
) -> None:
    inbox, url = receiver
    inbox.answer(notify_path, 500, 503)
    out_trade_no = _paid_order(merchant, http, url + notify_path)
    wait_until(lambda: len(inbox.received(notify_path)) == 3)
    log = wait_until(
        lambda: (
            (entries := _record(merchant, http, out_trade_no)["callbacks"]) and len(entries) == 3 and entries
        )
    )
    assert [entry["status_code"] for entry in log] == [500, 503, 200]
    assert [entry["attempt"] for entry in log] == [1, 2, 3]
    ids = {item.json()["id"] for item in inbox.received(notify_path)}
    assert len(ids) == 1  # a retry is the same notification


def test_retries_stop_when_the_schedule_is_exhausted(
    merchant: Merchant, http: httpx.Client, receiver: tuple[Receiver, str], notify_path: str, wechat: Running
) -> None:
    inbox, url = receiver
    inbox.answer(notify_path, *([500] * 10))
    out_trade_no = _paid_order(merchant, http, url + notify_path)
    wechat.server.run(wechat.sim.wait_callbacks())
    assert len(inbox.received(notify_path)) == 1 + len(TEST_SCHEDULE_S)
    assert len(_record(merchant, http, out_trade_no)["callbacks"]) == 1 + len(TEST_SCHEDULE_S)


def test_an_unreachable_notify_url_is_logged_as_an_error(
    merchant: Merchant, http: httpx.Client, wechat: Running
) -> None:
    out_trade_no = _paid_order(merchant, http, "http://127.0.0.1:9/notify")
    wechat.server.run(wechat.sim.wait_callbacks())
    log = _record(merchant, http, out_trade_no)["callbacks"]
    assert len(log) == 1 + len(TEST_SCHEDULE_S)
    assert all(entry["status_code"] is None and entry["error"] for entry in log)


def test_lost_duplicate_and_wrong_amount_faults(
    merchant: Merchant, http: httpx.Client, receiver: tuple[Receiver, str], wechat: Running
) -> None:
    inbox, url = receiver
    _faults(merchant, http, {"endpoint": "callback", "kind": "lost", "rate": 1})
    lost = _paid_order(merchant, http, url + "/notify/lost-" + merchant.mchid)
    wechat.server.run(wechat.sim.wait_callbacks())
    assert inbox.received("/notify/lost-" + merchant.mchid) == []
    assert "lost" in _record(merchant, http, lost)["callbacks"][0]["error"]

    _faults(merchant, http, {"endpoint": "callback", "kind": "duplicate", "rate": 1, "copies": 3})
    _paid_order(merchant, http, url + "/notify/dup-" + merchant.mchid)
    copies = wait_until(lambda: len(got := inbox.received("/notify/dup-" + merchant.mchid)) == 3 and got)
    assert len({item.json()["id"] for item in copies}) == 1

    _faults(
        merchant,
        http,
        {"endpoint": "callback", "kind": "wrong_amount", "rate": 1, "delta": 5},
        {"endpoint": "query", "kind": "wrong_amount", "rate": 1},
    )
    wrong = _paid_order(merchant, http, url + "/notify/amount-" + merchant.mchid)
    [item] = wait_until(lambda: inbox.received("/notify/amount-" + merchant.mchid))
    assert merchant.decrypt(item.json()["resource"])["amount"]["total"] == 1999 + 5
    assert merchant.query(http, wrong).json()["amount"]["total"] == 1999 + 1
    assert _record(merchant, http, wrong)["amount"]["total"] == 1999


def test_delayed_callback(
    merchant: Merchant, http: httpx.Client, receiver: tuple[Receiver, str], notify_path: str, wechat: Running
) -> None:
    inbox, url = receiver
    _faults(merchant, http, {"endpoint": "callback", "kind": "delay", "rate": 1, "delay_s": 0.3})
    _paid_order(merchant, http, url + notify_path)
    assert inbox.received(notify_path) == []
    wait_until(lambda: inbox.received(notify_path))


def test_paying_another_amount_is_reported_as_paid(
    merchant: Merchant, http: httpx.Client, receiver: tuple[Receiver, str], notify_path: str
) -> None:
    inbox, url = receiver
    out_trade_no = _paid_order(merchant, http, url + notify_path, amount=1, payer={"openid": "o-test-payer"})
    [item] = wait_until(lambda: inbox.received(notify_path))
    transaction = merchant.decrypt(item.json()["resource"])
    assert transaction["amount"]["total"] == transaction["amount"]["payer_total"] == 1
    assert transaction["payer"] == {"openid": "o-test-payer"}
    assert merchant.query(http, out_trade_no).json()["amount"]["payer_total"] == 1
