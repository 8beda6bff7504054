"""Fee plans and channel-cost plans through the admin API: what a bad plan is told, and that a plan
change never alters a payment charged before it."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest

from tests.support.factories import error_of, ok
from tests.support.stack import Stack
from tests.support.wechat import WeChatMerchant, sim_pay

PLANS = "/admin/v1/fee-plans"


@pytest.mark.parametrize(
    ("body", "code", "param"),
    [
        ({"rate_bps": "-1"}, "rate_invalid", "rate_bps"),
        ({"rate_bps": "10000.5"}, "rate_invalid", "rate_bps"),
        ({"rate_bps": "abc"}, "rate_invalid", "rate_bps"),
        ({"rate_bps": "1.00001"}, "rate_invalid", "rate_bps"),
        ({"rate_bps": "NaN"}, "rate_invalid", "rate_bps"),
        ({"method": "cash"}, "method_invalid", "method"),
        ({"minimum": 10, "cap": 5}, "cap_invalid", "cap"),
    ],
)
def test_a_plan_that_is_not_one_is_refused_with_400(
    admin: httpx.Client, body: dict[str, object], code: str, param: str
) -> None:
    refused = error_of(admin.post(PLANS, json={"method": "alipay_qr", "rate_bps": "55", **body}), 400)
    assert (refused["code"], refused["param"]) == (code, param)
    assert ok(admin.get(PLANS))["data"] == []


def test_a_float_rate_and_a_negative_minimum_are_refused(admin: httpx.Client) -> None:
    for body in ({"rate_bps": 0.6}, {"rate_bps": "60", "minimum": -1}):
        param = error_of(admin.post(PLANS, json={"method": "alipay_qr", **body}), 400)["param"]
        assert param.split(".")[0] in ("rate_bps", "minimum")


def test_plans_never_overlap_and_never_start_in_the_past(tongbao: Stack, admin: httpx.Client) -> None:
    now = tongbao.clock.now()
    first = ok(admin.post(PLANS, json={"method": "alipay_qr", "rate_bps": "55"}), 201)
    clash = error_of(admin.post(PLANS, json={"method": "alipay_qr", "rate_bps": "40"}), 400)
    assert (clash["code"], clash["param"]) == ("plan_overlaps", "effective_from")
    assert first["id"] in clash["message"]
    past = {"method": "alipay_wap", "rate_bps": "40", "effective_from": (now - timedelta(days=1)).isoformat()}
    assert error_of(admin.post(PLANS, json=past), 400)["code"] == "effective_from_past"
    # The way to change a plan: end it, and start the next where it ends.
    change_at = (now + timedelta(hours=1)).isoformat()
    ended = ok(admin.post(f"{PLANS}/{first['id']}/end", json={"effective_to": change_at}))
    assert ended["effective_to"] is not None
    later = {"method": "alipay_qr", "rate_bps": "40", "effective_from": change_at}
    assert ok(admin.post(PLANS, json=later), 201)["rate_bps"] == "40"
    unknown = error_of(
        admin.post(PLANS, json={"method": "alipay_qr", "rate_bps": "1", "merchant_id": "mch_x"}), 404
    )
    assert unknown["code"] == "merchant_not_found"


def test_a_new_plan_leaves_earlier_payments_as_they_were_charged(
    tongbao: Stack, shop: WeChatMerchant, admin: httpx.Client
) -> None:
    plan = ok(admin.post(PLANS, json={"method": "wechat_native", "rate_bps": "100"}), 201)

    def pay(amount: int) -> dict[str, object]:
        created = ok(shop.create_payment(amount=amount), 201)
        sim_pay(tongbao, out_trade_no=created["attempts"][0]["channel_order_no"])
        tongbao.wechatpay_wait()
        [entry] = ok(admin.get("/admin/v1/ledger/entries", params={"payment_id": created["id"]}))["data"]
        return entry  # type: ignore[no-any-return]

    assert pay(5000)["fee"] == 50
    ok(admin.post(f"{PLANS}/{plan['id']}/end", json={}))
    tongbao.clock.advance(1)
    ok(admin.post(PLANS, json={"method": "wechat_native", "rate_bps": "20", "minimum": 3}), 201)
    assert pay(5000)["fee"] == 10
    assert pay(100)["fee"] == 3
    cost = f"/admin/v1/channel-accounts/{shop.account_id}/cost-plans"
    assert ok(admin.post(cost, json={"rate_bps": "25", "cap": 100}), 201)["cap"] == 100
    assert error_of(admin.post(cost, json={"rate_bps": "25"}), 400)["code"] == "plan_overlaps"
    assert ok(admin.get(cost))["data"][0]["rate_bps"] == "25"
