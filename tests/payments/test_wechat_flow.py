"""A payment's life on WeChat Pay, through the merchant API and the simulator."""

from __future__ import annotations

import json

import httpx
import pytest

from tests.support.factories import ok
from tests.support.receiver import Receiver
from tests.support.stack import Stack
from tests.support.wechat import WeChatMerchant, sim_order, sim_pay, wechat_merchant


def test_native_payment_paid_by_the_payer_succeeds_and_the_merchant_hears_once(
    tongbao: Stack, shop: WeChatMerchant, receiver: Receiver
) -> None:
    created = ok(shop.create_payment(amount=1234, subject="Flat white"), 201)
    assert created["status"] == "pending"
    assert created["action"]["type"] == "qr_code"
    code_url = created["action"]["code_url"]
    assert code_url.startswith("weixin://wxpay/bizpayurl?pr=")

    sim_pay(tongbao, code_url=code_url)
    tongbao.wechatpay_wait()
    payment = shop.payment(created["id"])
    assert payment["status"] == "succeeded"
    assert payment["channel_trade_no"]

    tongbao.run_jobs()
    [arrived] = receiver.wait_for(1)
    event = shop.client.verify_notification(arrived.headers, arrived.body)
    assert event["type"] == "payment.succeeded"
    assert event["data"]["id"] == created["id"]
    assert event["data"]["amount"] == 1234
    tongbao.run_jobs()
    assert len(receiver.received) == 1
    order = sim_order(tongbao, created["attempts"][0]["channel_order_no"])
    assert order["trade_state"] == "SUCCESS"
    assert json.loads(arrived.body)["id"].startswith("evt_")


def test_certificate_mode_verifies_with_downloaded_platform_certificates(
    tongbao: Stack, admin: httpx.Client, receiver: Receiver
) -> None:
    shop = wechat_merchant(tongbao, admin, notify_url=receiver.url, verification="certificate")
    try:
        created = ok(shop.create_payment(amount=99), 201)
        sim_pay(tongbao, code_url=created["action"]["code_url"])
        tongbao.wechatpay_wait()
        assert shop.payment(created["id"])["status"] == "succeeded"
    finally:
        shop.client.close()


def test_a_merchant_closes_a_pending_payment_and_hears_of_it(
    tongbao: Stack, shop: WeChatMerchant, receiver: Receiver
) -> None:
    created = ok(shop.create_payment(), 201)
    closed = ok(shop.client.post(f"/v1/payments/{created['id']}/close"))
    assert closed["status"] == "closed"
    assert sim_order(tongbao, created["attempts"][0]["channel_order_no"])["trade_state"] == "CLOSED"
    tongbao.run_jobs()
    [arrived] = receiver.wait_for(1)
    assert shop.client.verify_notification(arrived.headers, arrived.body)["type"] == "payment.closed"


@pytest.mark.parametrize(("method", "extra"), [("wechat_jsapi", {"payer": {"openid": "o-payer-1"}}),
                                               ("wechat_h5", {"client_ip": "203.0.113.9"}),
                                               ("wechat_app", {})])  # fmt: skip
def test_every_other_wechat_method_is_paid_and_told_once(
    tongbao: Stack, shop: WeChatMerchant, receiver: Receiver, method: str, extra: dict[str, object]
) -> None:
    created = ok(shop.create_payment(method=method, **extra), 201)
    sim_pay(tongbao, out_trade_no=created["attempts"][0]["channel_order_no"])
    tongbao.wechatpay_wait()
    assert shop.payment(created["id"])["status"] == "succeeded"
    tongbao.run_jobs()
    [arrived] = receiver.wait_for(1)
    assert shop.client.verify_notification(arrived.headers, arrived.body)["data"]["method"] == method
