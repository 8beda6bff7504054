"""Paying at the UnionPay simulator: the payer page hands back to frontUrl, the back notify reaches
backUrl signed, and is re-sent until the merchant answers HTTP 200."""

from __future__ import annotations

import re
from html import unescape

import httpx

from tongbao.channels.unionpay import protocol

from .support import Receiver, wait_until
from .test_unionpay_support import (  # noqa: F401  (the fixtures register by import)
    Running,
    UpMerchant,
    new_order_id,
    notifies,
    token_of,
    unionpay_fixture,
    up_merchant_fixture,
)


def open_order(http: httpx.Client, merchant: UpMerchant, back_url: str, amount: int = 880) -> tuple[str, str]:
    fields = merchant.sign(merchant.front_params(new_order_id(), back_url, amount))
    response = merchant.post_front(http, fields)
    assert response.status_code == 200, response.text
    return fields["orderId"], response.text


def test_paying_on_the_payer_page_returns_to_the_shop_and_notifies_the_back_url(
    unionpay: Running,
    up_merchant: UpMerchant,
    http: httpx.Client,
    receiver: tuple[Receiver, str],
    notify_path: str,
) -> None:
    recv, url = receiver
    order_id, page = open_order(http, up_merchant, url + notify_path)
    paid = http.post(f"{unionpay.base_url}/_control/payer/pay", data={"token": token_of(page)})
    assert paid.status_code == 200
    # The browser is handed back to frontUrl with the signed result, by an auto-submitting form.
    assert 'action="https://shop.example/return"' in paid.text and ".submit()" in paid.text
    front = {unescape(k): unescape(v) for k, v in re.findall(r'name="([^"]+)" value="([^"]*)"', paid.text)}
    assert protocol.verify(up_merchant.unionpay_key, front) and front["respCode"] == "00"

    (notify,) = notifies(recv, notify_path, 1)
    assert (
        recv.received(notify_path)[0].headers["content-type"].startswith("application/x-www-form-urlencoded")
    )
    assert protocol.verify(up_merchant.unionpay_key, notify)
    assert notify["certId"] == up_merchant.answer["cert_id"]
    assert (notify["merId"], notify["orderId"], notify["txnAmt"]) == (up_merchant.mer_id, order_id, "880")
    assert notify["respCode"] == "00" and notify["queryId"] == front["queryId"]
    # The attempt is logged once the merchant's answer is back, a moment after the receiver saw it.
    record = wait_until(
        lambda: (
            (found := http.get(f"{unionpay.base_url}/_control/orders/{order_id}").json())["notifies"]
            and found
        )
    )
    assert record["state"] == "PAID"
    assert [entry["status_code"] for entry in record["notifies"]] == [200]
    # Paying twice is refused on the page, and nothing more is sent.
    again = http.post(f"{unionpay.base_url}/_control/payer/pay", data={"token": token_of(page)})
    assert "already paid" in again.text


def test_the_back_notify_is_resent_until_http_200(
    unionpay: Running,
    up_merchant: UpMerchant,
    http: httpx.Client,
    receiver: tuple[Receiver, str],
    notify_path: str,
) -> None:
    recv, url = receiver
    recv.answer(notify_path, 500, 204)  # 204 is not 200: the gateway wants exactly 200
    order_id, _ = open_order(http, up_merchant, url + notify_path)
    http.post(f"{unionpay.base_url}/_control/pay", json={"out_trade_no": order_id}).raise_for_status()
    sent = notifies(recv, notify_path, 3)
    assert sent[0] == sent[2]
    unionpay.server.run(unionpay.sim.wait_callbacks())
    record = http.get(f"{unionpay.base_url}/_control/orders/{order_id}").json()
    assert [entry["status_code"] for entry in record["notifies"]] == [500, 204, 200]
    assert [entry["attempt"] for entry in record["notifies"]] == [1, 2, 3]


def test_callback_faults_lose_duplicate_or_misstate_the_notify(
    unionpay: Running,
    up_merchant: UpMerchant,
    http: httpx.Client,
    receiver: tuple[Receiver, str],
    notify_path: str,
) -> None:
    recv, url = receiver
    plan = {"seed": 3, "rules": [{"endpoint": "callback", "kind": "lost", "rate": 1.0}]}
    http.put(f"{unionpay.base_url}/_control/faults", json=plan).raise_for_status()
    lost_id, _ = open_order(http, up_merchant, url + notify_path + "lost")
    http.post(f"{unionpay.base_url}/_control/pay", json={"out_trade_no": lost_id}).raise_for_status()
    record = http.get(f"{unionpay.base_url}/_control/orders/{lost_id}").json()
    assert record["notifies"][0]["error"] == "not sent: fault 'lost'"

    rules = [
        {"endpoint": "callback", "kind": "duplicate", "rate": 1.0, "copies": 2},
        {"endpoint": "callback", "kind": "wrong_amount", "rate": 1.0, "delta": 5},
    ]
    http.put(f"{unionpay.base_url}/_control/faults", json={"seed": 3, "rules": rules}).raise_for_status()
    order_id, _ = open_order(http, up_merchant, url + notify_path, amount=100)
    http.post(f"{unionpay.base_url}/_control/pay", json={"out_trade_no": order_id}).raise_for_status()
    first, second = notifies(recv, notify_path, 2)
    assert first == second and first["txnAmt"] == "105"
    assert protocol.verify(up_merchant.unionpay_key, first)
    unionpay.server.run(unionpay.sim.wait_callbacks())
    assert recv.received(notify_path + "lost") == []


def test_the_payer_may_pay_another_amount_or_give_up(
    unionpay: Running,
    up_merchant: UpMerchant,
    http: httpx.Client,
    receiver: tuple[Receiver, str],
    notify_path: str,
) -> None:
    recv, url = receiver
    order_id, _ = open_order(http, up_merchant, url + notify_path, amount=100)
    cancelled = http.post(f"{unionpay.base_url}/_control/cancel", json={"out_trade_no": order_id})
    assert cancelled.json()["state"] == "ABANDONED"
    paid = http.post(f"{unionpay.base_url}/_control/pay", json={"out_trade_no": order_id, "amount": 99})
    assert paid.json()["paid_amount"] == 99
    (notify,) = notifies(recv, notify_path, 1)
    assert notify["txnAmt"] == "99"
    missing = http.post(f"{unionpay.base_url}/_control/pay", json={"out_trade_no": new_order_id()})
    assert missing.status_code == 404 and missing.json()["code"] == "ORDER_NOT_EXIST"
