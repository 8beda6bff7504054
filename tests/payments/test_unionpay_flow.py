"""UnionPay web and wap payments through the merchant API, the cashier form and the simulator."""

from __future__ import annotations

import httpx
import pytest

from tests.support.factories import ok
from tests.support.receiver import Receiver
from tests.support.stack import Stack
from tests.support.unionpay import add_unionpay, unionpay_order_id
from tests.support.wechat import WeChatMerchant


@pytest.mark.parametrize("method", ["unionpay_web", "unionpay_wap"])
def test_a_unionpay_front_transaction_paid_by_the_payer_succeeds_and_is_notified_once(
    tongbao: Stack, admin: httpx.Client, shop: WeChatMerchant, receiver: Receiver, method: str
) -> None:
    account_id = add_unionpay(tongbao, admin, shop)
    created = ok(shop.create_payment(method=method, amount=5000), 201)
    assert created["action"]["type"] == "form_post"
    assert created["attempts"][0]["channel_account_id"] == account_id
    assert created["attempts"][0]["account_mode"] == "own"
    # The payer's browser posts the signed form to UnionPay, which shows its payment page.
    action = created["action"]
    page = httpx.post(action["url"], data=action["fields"], timeout=10)
    assert page.status_code == 200, page.text
    order_id = unionpay_order_id(created["attempts"][0]["channel_order_no"])
    ok(httpx.post(f"{tongbao.unionpay_url}/_control/pay", json={"out_trade_no": order_id}, timeout=10))
    tongbao.unionpay_wait()
    payment = shop.payment(created["id"])
    assert payment["status"] == "succeeded" and payment["channel_trade_no"]
    tongbao.run_jobs()
    [arrived] = receiver.wait_for(1)
    event = shop.client.verify_notification(arrived.headers, arrived.body)
    assert (event["type"], event["data"]["amount"]) == ("payment.succeeded", 5000)
    tongbao.run_jobs()
    assert len(receiver.received) == 1


def test_a_lost_unionpay_notify_is_made_good_by_the_query(
    tongbao: Stack, admin: httpx.Client, shop: WeChatMerchant
) -> None:
    add_unionpay(tongbao, admin, shop)
    lost = {"seed": 3, "rules": [{"endpoint": "callback", "kind": "lost", "rate": 1.0}]}
    ok(httpx.put(f"{tongbao.unionpay_url}/_control/faults", json=lost, timeout=10))
    created = ok(shop.create_payment(method="unionpay_web"), 201)
    action = created["action"]
    assert httpx.post(action["url"], data=action["fields"], timeout=10).status_code == 200
    order_id = unionpay_order_id(created["attempts"][0]["channel_order_no"])
    ok(httpx.post(f"{tongbao.unionpay_url}/_control/pay", json={"out_trade_no": order_id}, timeout=10))
    tongbao.clock.advance(61)
    tongbao.run_jobs()
    assert shop.payment(created["id"])["status"] == "succeeded"
