"""The cashier: a payment without a method, the payer's choice, several attempts, one capture."""

from __future__ import annotations

from typing import Any

import httpx

from tests.support.factories import error_of, ok
from tests.support.stack import Stack
from tests.support.wechat import WeChatMerchant, sim_faults, sim_order, sim_pay


def _cashier(shop: WeChatMerchant) -> dict[str, Any]:
    created = ok(shop.create_payment(method=None, amount=1800), 201)
    assert created["action"]["type"] == "redirect"
    return created  # type: ignore[no-any-return]


def test_the_payer_picks_wechat_native_and_pays(tongbao: Stack, shop: WeChatMerchant) -> None:
    created = _cashier(shop)
    url = created["action"]["url"]
    page = httpx.get(url)
    assert page.status_code == 200
    assert "18.00" in page.text and 'data-method="wechat_native"' in page.text
    chosen = ok(httpx.post(f"{url}/attempts", json={"method": "wechat_native"}))
    assert chosen["qr_svg"].startswith("<svg") and chosen["code_url"].startswith("weixin://")
    assert "payer_url" not in chosen  # payer-page links are for the demo only
    assert ok(httpx.get(f"{url}/status"))["status"] == "pending"

    sim_pay(tongbao, code_url=chosen["code_url"])
    tongbao.wechatpay_wait()
    assert ok(httpx.get(f"{url}/status"))["status"] == "succeeded"
    payment = shop.payment(created["id"])
    assert payment["method"] is None and payment["channel"] == "wechatpay"
    assert "支付成功" in httpx.get(url).text


def test_a_second_attempt_is_closed_at_the_channel_once_the_first_captures(
    tongbao: Stack, shop: WeChatMerchant
) -> None:
    url = _cashier(shop)["action"]["url"]
    native = ok(httpx.post(f"{url}/attempts", json={"method": "wechat_native"}))
    h5 = ok(httpx.post(f"{url}/attempts", json={"method": "wechat_h5"}))
    assert h5["redirect_url"]
    sim_pay(tongbao, out_trade_no=h5["attempt_id"])
    tongbao.wechatpay_wait()
    tongbao.run_jobs()  # closes the stray native order so nobody can pay it any more
    assert sim_order(tongbao, native["attempt_id"])["trade_state"] == "CLOSED"
    late = httpx.post(f"{tongbao.wechatpay_url}/_control/pay", json={"code_url": native["code_url"]})
    assert late.status_code >= 400
    assert error_of(httpx.post(f"{url}/attempts", json={"method": "wechat_native"}), 409)["code"] == (
        "payment_not_pending"
    )


def test_two_captures_keep_the_first_and_give_the_second_back_by_policy(
    tongbao: Stack, shop: WeChatMerchant, admin: httpx.Client
) -> None:
    created = _cashier(shop)
    url = created["action"]["url"]
    first = ok(httpx.post(f"{url}/attempts", json={"method": "wechat_native"}))
    second = ok(httpx.post(f"{url}/attempts", json={"method": "wechat_native"}))
    sim_pay(tongbao, code_url=first["code_url"])
    sim_pay(tongbao, code_url=second["code_url"])  # two devices scanned before anything closed
    tongbao.wechatpay_wait()
    payment = shop.payment(created["id"])
    assert payment["status"] == "succeeded"
    # Whichever callback arrives first captures the payment; the other is the duplicate.
    captured = payment["captured_attempt_id"]
    [extra] = {first["attempt_id"], second["attempt_id"]} - {captured}
    cases = ok(admin.get("/admin/v1/exception-cases", params={"payment_id": created["id"]}))["data"]
    assert [(c["kind"], c["attempt_id"], c["status"], c["resolution"]) for c in cases] == [
        ("duplicate_payment", extra, "open", "refund_pending")
    ]
    # The default policy (auto_refund) sends the second capture back, through the worker.
    tongbao.run_jobs()
    tongbao.wechatpay_wait()
    case = ok(admin.get(f"/admin/v1/exception-cases/{cases[0]['id']}"))
    assert (case["status"], case["resolution"]) == ("resolved", "refunded")
    assert [(h["action"], h["actor"]) for h in case["history"]] == [
        ("refund", "system"),
        ("refund_succeeded", "system"),
    ]
    [refund] = case["refunds"]
    assert (refund["kind"], refund["attempt_id"], refund["amount"], refund["status"]) == (
        "duplicate_capture",
        extra,
        payment["amount"],
        "succeeded",
    )
    assert [(r["refund_no"], r["status"]) for r in sim_order(tongbao, extra)["refunds"]] == [
        (refund["id"], "SUCCESS")
    ]
    assert sim_order(tongbao, captured)["refunds"] == []
    # The merchant sees one succeeded payment, told once, and no refund of its own.
    payment = shop.payment(created["id"])
    assert (payment["status"], payment["refunded_amount"], payment["refunds"]) == ("succeeded", 0, [])
    events = ok(shop.client.get("/v1/notifications", params={"payment_id": created["id"]}))["data"]
    assert [e["type"] for e in events] == ["payment.succeeded"]


def test_the_cashier_refuses_unknown_and_unavailable_methods(tongbao: Stack, shop: WeChatMerchant) -> None:
    url = _cashier(shop)["action"]["url"]
    assert error_of(httpx.post(f"{url}/attempts", json={"method": "cash"}), 400)["code"] == "method_unknown"
    assert error_of(httpx.post(f"{url}/attempts", json={"method": "wechat_jsapi"}), 400)["param"] == "method"
    assert error_of(httpx.get(f"{tongbao.url}/pay/pay_01J00000000000000000000000"), 404)["code"] == (
        "payment_not_found"
    )


def test_a_channel_that_does_not_answer_leaves_the_cashier_able_to_retry(
    tongbao: Stack, shop: WeChatMerchant
) -> None:
    url = _cashier(shop)["action"]["url"]
    sim_faults(tongbao, {"endpoint": "create", "kind": "error_5xx", "rate": 1.0})
    failed = ok(httpx.post(f"{url}/attempts", json={"method": "wechat_native"}))
    assert failed["error"] and "qr_svg" not in failed
    sim_faults(tongbao)
    retried = ok(httpx.post(f"{url}/attempts", json={"method": "wechat_native"}))
    assert retried["qr_svg"].startswith("<svg")


def test_a_payment_takes_at_most_ten_attempts(tongbao: Stack, shop: WeChatMerchant) -> None:
    url = _cashier(shop)["action"]["url"]
    for _ in range(10):
        ok(httpx.post(f"{url}/attempts", json={"method": "wechat_native"}))
    assert error_of(httpx.post(f"{url}/attempts", json={"method": "wechat_h5"}), 409)["code"] == (
        "too_many_attempts"
    )
