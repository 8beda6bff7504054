"""Every Alipay method through the merchant API and the Alipay simulator, one notification each."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.support.alipay import add_alipay, alipay_order, alipay_pay
from tests.support.factories import ok
from tests.support.receiver import Receiver
from tests.support.stack import Stack
from tests.support.wechat import WeChatMerchant


def _notified_once(tongbao: Stack, shop: WeChatMerchant, receiver: Receiver, payment_id: str) -> None:
    tongbao.run_jobs()
    [arrived] = receiver.wait_for(1)
    event = shop.client.verify_notification(arrived.headers, arrived.body)
    assert (event["type"], event["data"]["id"]) == ("payment.succeeded", payment_id)
    tongbao.run_jobs()
    assert len(receiver.received) == 1


def _order_no(payment: dict[str, Any]) -> str:
    return str(payment["attempts"][0]["channel_order_no"])


def test_alipay_qr_paid_by_scanning_succeeds(
    tongbao: Stack, admin: httpx.Client, shop: WeChatMerchant, receiver: Receiver
) -> None:
    add_alipay(tongbao, admin, shop)
    created = ok(shop.create_payment(method="alipay_qr", amount=2345), 201)
    assert created["channel"] == "alipay" and created["action"]["type"] == "qr_code"
    alipay_pay(tongbao, qr_code=created["action"]["qr_code"])
    tongbao.alipay_wait()
    payment = shop.payment(created["id"])
    assert payment["status"] == "succeeded" and payment["channel_trade_no"]
    _notified_once(tongbao, shop, receiver, created["id"])


@pytest.mark.parametrize("method", ["alipay_page", "alipay_wap"])
def test_alipay_page_and_wap_payments_succeed_once_the_payer_pays(
    tongbao: Stack, admin: httpx.Client, shop: WeChatMerchant, receiver: Receiver, method: str
) -> None:
    add_alipay(tongbao, admin, shop)
    created = ok(shop.create_payment(method=method, return_url="https://shop.example/back"), 201)
    assert created["action"]["type"] == "redirect"
    page = httpx.get(created["action"]["url"], timeout=10)  # the payer's browser opens Alipay
    assert page.status_code == 200, page.text
    alipay_pay(tongbao, out_trade_no=_order_no(created))
    tongbao.alipay_wait()
    assert shop.payment(created["id"])["status"] == "succeeded"
    _notified_once(tongbao, shop, receiver, created["id"])


def test_alipay_app_payment_succeeds_through_the_janitor_when_the_notify_is_lost(
    tongbao: Stack, admin: httpx.Client, shop: WeChatMerchant, receiver: Receiver
) -> None:
    add_alipay(tongbao, admin, shop)
    lost = {"seed": 1, "rules": [{"endpoint": "callback", "kind": "lost", "rate": 1.0}]}
    ok(httpx.put(f"{tongbao.alipay_url}/_control/faults", json=lost))
    created = ok(shop.create_payment(method="alipay_app"), 201)
    assert created["action"]["type"] == "app" and "sign=" in created["action"]["order_string"]
    # The app hands the order string to the Alipay SDK; the simulator's gateway takes it the same way.
    opened = httpx.get(f"{tongbao.alipay_url}/gateway.do?{created['action']['order_string']}", timeout=10)
    assert opened.status_code == 200, opened.text
    alipay_pay(tongbao, out_trade_no=_order_no(created))
    tongbao.clock.advance(61)
    tongbao.run_jobs()
    assert shop.payment(created["id"])["status"] == "succeeded"
    _notified_once(tongbao, shop, receiver, created["id"])


def test_barcode_paid_at_once(
    tongbao: Stack, admin: httpx.Client, shop: WeChatMerchant, receiver: Receiver
) -> None:
    add_alipay(tongbao, admin, shop)
    created = ok(shop.create_payment(method="alipay_barcode", auth_code="281234567890123456"), 201)
    assert created["status"] == "succeeded"
    _notified_once(tongbao, shop, receiver, created["id"])


def test_barcode_waiting_for_the_payer_then_paid(
    tongbao: Stack, admin: httpx.Client, shop: WeChatMerchant, receiver: Receiver
) -> None:
    add_alipay(tongbao, admin, shop)
    created = ok(shop.create_payment(method="alipay_barcode", auth_code="261234567890123456"), 201)
    assert created["status"] == "pending"
    tongbao.clock.advance(5)
    tongbao.run_jobs()
    assert shop.payment(created["id"])["status"] == "pending"  # still confirming on the phone
    alipay_pay(tongbao, out_trade_no=_order_no(created))
    tongbao.clock.advance(5)
    tongbao.run_jobs()
    assert shop.payment(created["id"])["status"] == "succeeded"
    _notified_once(tongbao, shop, receiver, created["id"])


def test_barcode_waiting_too_long_is_cancelled_at_the_channel_and_closed(
    tongbao: Stack, admin: httpx.Client, shop: WeChatMerchant, receiver: Receiver
) -> None:
    add_alipay(tongbao, admin, shop)
    created = ok(shop.create_payment(method="alipay_barcode", auth_code="261234567890123456"), 201)
    for _ in range(13):
        tongbao.clock.advance(5)
        tongbao.run_jobs()
    payment = shop.payment(created["id"])
    assert payment["status"] == "closed"
    assert ok(alipay_order(tongbao, _order_no(created)))["trade_status"] == "TRADE_CLOSED"
    tongbao.run_jobs()
    [arrived] = receiver.wait_for(1)
    assert shop.client.verify_notification(arrived.headers, arrived.body)["type"] == "payment.closed"
