"""``POST /v1/payments``: bad input is refused with a clear 4xx and creates nothing; good input gets
the action its method needs; closing a payment."""

from __future__ import annotations

import base64
import secrets
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from tests.support.factories import active_merchant, create_app, error_of, ok
from tests.support.stack import Stack
from tests.support.wechat import WeChatMerchant, sim_order, sim_pay, wechat_merchant
from tongbao.client import TongbaoClient

MISSING: Any = object()  # leave the field out of the body
BASE: dict[str, Any] = {"amount": 1234, "subject": "Latte", "method": "wechat_native"}


def body_with(**fields: Any) -> dict[str, Any]:
    body = {"out_trade_no": f"order-{secrets.token_hex(6)}", **BASE, **fields}
    return {name: value for name, value in body.items() if value is not MISSING}


def sim_orders(tongbao: Stack, mchid: str) -> list[Any]:
    """Every order the WeChat Pay simulator holds for one merchant."""
    return [order for (owner, _), order in tongbao.wechatpay._orders.items() if owner == mchid]


def assert_nothing_created(tongbao: Stack, shop: WeChatMerchant, out_trade_no: Any) -> None:
    if isinstance(out_trade_no, str) and 1 <= len(out_trade_no) <= 64:
        found = shop.client.get("/v1/payments", params={"out_trade_no": out_trade_no})
        assert error_of(found, 404)["code"] == "payment_not_found"
    assert sim_orders(tongbao, shop.mchid) == []


def refused(tongbao: Stack, shop: WeChatMerchant, body: dict[str, Any], status: int = 400) -> dict[str, Any]:
    error = error_of(shop.client.post("/v1/payments", json=body), status)
    assert_nothing_created(tongbao, shop, body.get("out_trade_no"))
    return error


JSAPI = {"method": "wechat_jsapi"}
# group -> [(fields changed in a valid body, expected code, expected param)]
BAD_INPUT: dict[str, list[tuple[dict[str, Any], str, str]]] = {
    "amount-and-currency": [
        ({"amount": 0}, "amount_invalid", "amount"),
        ({"amount": -1}, "amount_invalid", "amount"),
        ({"amount": 1.5}, "amount_invalid", "amount"),
        ({"amount": "100"}, "amount_invalid", "amount"),
        ({"amount": True}, "amount_invalid", "amount"),
        ({"amount": None}, "amount_invalid", "amount"),
        ({"amount": MISSING}, "parameter_missing", "amount"),
        ({"amount": 100_000_001}, "amount_too_large", "amount"),
        ({"currency": "USD"}, "currency_unsupported", "currency"),
        ({"currency": "cny"}, "currency_unsupported", "currency"),
        ({"currency": 123}, "currency_unsupported", "currency"),
    ],
    "method-and-payer": [
        ({"method": "wechat_foo"}, "method_unknown", "method"),
        ({"method": 7}, "method_unknown", "method"),
        ({"method": "alipay_qr"}, "method_not_enabled", "method"),
        ({**JSAPI}, "parameter_missing", "payer.openid"),
        ({**JSAPI, "payer": {}}, "parameter_missing", "payer.openid"),
        ({**JSAPI, "payer": {"openid": ""}}, "parameter_missing", "payer.openid"),
        ({**JSAPI, "payer": "o-123"}, "parameter_invalid", "payer"),
        ({"colour": "red"}, "parameter_unknown", "colour"),
    ],
    "out_trade_no-and-subject": [
        ({"out_trade_no": MISSING}, "parameter_missing", "out_trade_no"),
        ({"out_trade_no": ""}, "parameter_missing", "out_trade_no"),
        ({"out_trade_no": "x" * 65}, "parameter_invalid", "out_trade_no"),
        ({"out_trade_no": "order 1"}, "parameter_invalid", "out_trade_no"),
        ({"out_trade_no": "order/1"}, "parameter_invalid", "out_trade_no"),
        ({"out_trade_no": "订单1"}, "parameter_invalid", "out_trade_no"),
        ({"out_trade_no": 12345}, "parameter_invalid", "out_trade_no"),
        ({"subject": MISSING}, "parameter_missing", "subject"),
        ({"subject": ""}, "parameter_missing", "subject"),
        ({"subject": "x" * 129}, "parameter_invalid", "subject"),
        ({"subject": 42}, "parameter_invalid", "subject"),
    ],
    "notify_url-expiry-metadata": [
        ({"notify_url": "ftp://x"}, "parameter_invalid", "notify_url"),
        ({"notify_url": "not a url"}, "parameter_invalid", "notify_url"),
        ({"notify_url": "http://"}, "parameter_invalid", "notify_url"),
        ({"expire_in_seconds": 59}, "parameter_invalid", "expire_in_seconds"),
        ({"expire_in_seconds": 604_801}, "parameter_invalid", "expire_in_seconds"),
        ({"expire_in_seconds": "60"}, "parameter_invalid", "expire_in_seconds"),
        ({"expire_in_seconds": 60.0}, "parameter_invalid", "expire_in_seconds"),
        ({"metadata": "order=1"}, "parameter_invalid", "metadata"),
        ({"metadata": ["a", "b"]}, "parameter_invalid", "metadata"),
        ({"metadata": {"table": 7}}, "parameter_invalid", "metadata.table"),
        ({"metadata": {"vip": None}}, "parameter_invalid", "metadata.vip"),
        ({"metadata": {f"k{i}": "v" for i in range(21)}}, "parameter_invalid", "metadata"),
    ],
}


@pytest.mark.parametrize("group", list(BAD_INPUT))
def test_bad_input_is_refused_with_its_code_and_param_and_nothing_is_created(
    tongbao: Stack, shop: WeChatMerchant, group: str
) -> None:
    for fields, code, param in BAD_INPUT[group]:
        error = refused(tongbao, shop, body_with(**fields))
        assert (error["code"], error["param"]) == (code, param), (fields, error)
        assert error["message"]


def test_values_on_the_boundaries_are_accepted(tongbao: Stack, shop: WeChatMerchant) -> None:
    for fields in (
        {"amount": 1},
        {"amount": 100_000_000},
        {"expire_in_seconds": 60},
        {"expire_in_seconds": 604_800},
    ):
        created = ok(shop.client.post("/v1/payments", json=body_with(**fields)), 201)
        assert created["status"] == "pending", fields
        assert created["amount"] == fields.get("amount", 1234)
        order = sim_order(tongbao, created["attempts"][0]["channel_order_no"])
        assert order["amount"]["total"] == created["amount"]
        assert order["trade_state"] == "NOTPAY"


def test_a_method_the_merchant_has_not_enabled_is_refused(
    tongbao: Stack, admin: httpx.Client, shop: WeChatMerchant
) -> None:
    ok(admin.put(f"/admin/v1/merchants/{shop.merchant_id}/methods", json={"methods": ["wechat_native"]}))
    for method in ("wechat_h5", "wechat_app"):
        error = refused(tongbao, shop, body_with(method=method, client_ip="203.0.113.7"))
        assert (error["code"], error["param"]) == ("method_not_enabled", "method")
    ok(shop.create_payment(method="wechat_native"), 201)


def test_a_suspended_merchant_cannot_take_payments(
    tongbao: Stack, admin: httpx.Client, shop: WeChatMerchant
) -> None:
    suspended = ok(admin.post(f"/admin/v1/merchants/{shop.merchant_id}/suspend", json={"reason": "review"}))
    assert suspended["status"] == "suspended"
    for method in ("wechat_native", MISSING):
        assert refused(tongbao, shop, body_with(method=method), 403)["code"] == "merchant_not_active"


def test_a_merchant_without_a_channel_account_gets_channel_account_missing(
    tongbao: Stack, admin: httpx.Client, make_client: Callable[..., TongbaoClient]
) -> None:
    merchant = active_merchant(admin)
    app = create_app(admin, merchant["id"])
    ok(admin.put(f"/admin/v1/merchants/{merchant['id']}/methods", json={"methods": ["wechat_native"]}))
    client = make_client(app["id"], app["secret"])
    body = body_with()
    error = error_of(client.post("/v1/payments", json=body), 400)
    assert (error["code"], error["param"]) == ("channel_account_missing", "method")
    lookup = client.get("/v1/payments", params={"out_trade_no": body["out_trade_no"]})
    assert error_of(lookup, 404)["code"] == "payment_not_found"


def test_the_same_request_again_returns_the_same_payment(tongbao: Stack, shop: WeChatMerchant) -> None:
    body = body_with(metadata={"table": "7", "guest": "Li"}, expire_in_seconds=600)
    first = ok(shop.client.post("/v1/payments", json=body), 201)
    repeated = shop.client.post("/v1/payments", json=dict(reversed(body.items())), verify=False)
    again = ok(repeated, 200)
    shop.client.verify_response(repeated)
    assert again["id"] == first["id"]
    assert again["attempts"] == first["attempts"]
    assert again["action"] == first["action"]
    assert len(sim_orders(tongbao, shop.mchid)) == 1


def test_the_same_out_trade_no_with_other_parameters_is_a_conflict(
    tongbao: Stack, shop: WeChatMerchant
) -> None:
    body = body_with(metadata={"table": "7"})
    first = ok(shop.client.post("/v1/payments", json=body), 201)
    for change in ({"amount": 1233}, {"subject": "Mocha"}, {"method": "wechat_h5"}, {"metadata": MISSING}):
        changed = {k: v for k, v in {**body, **change}.items() if v is not MISSING}
        error = error_of(shop.client.post("/v1/payments", json=changed), 409)
        assert (error["code"], error["param"]) == ("out_trade_no_reused", "out_trade_no"), change
    payment = shop.payment(first["id"])
    assert (payment["amount"], payment["subject"], payment["method"]) == (1234, "Latte", "wechat_native")
    assert len(sim_orders(tongbao, shop.mchid)) == 1


# --- closing -------------------------------------------------------------------------------------


def test_closing_a_pending_payment_closes_it_at_the_channel_and_again_is_harmless(
    tongbao: Stack, shop: WeChatMerchant
) -> None:
    created = ok(shop.create_payment(), 201)
    order_no = created["attempts"][0]["channel_order_no"]
    closed = ok(shop.client.post(f"/v1/payments/{created['id']}/close"))
    assert (closed["status"], closed["action"]) == ("closed", None)
    assert sim_order(tongbao, order_no)["trade_state"] == "CLOSED"

    again = ok(shop.client.post(f"/v1/payments/{created['id']}/close"))
    assert again["status"] == "closed"
    assert again["closed_at"] == closed["closed_at"]
    events = ok(shop.client.get("/v1/notifications", params={"payment_id": created["id"]}))["data"]
    assert [e["type"] for e in events] == ["payment.closed"]


def test_a_succeeded_payment_cannot_be_closed(tongbao: Stack, shop: WeChatMerchant) -> None:
    created = ok(shop.create_payment(), 201)
    sim_pay(tongbao, code_url=created["action"]["code_url"])
    tongbao.wechatpay_wait()
    assert shop.payment(created["id"])["status"] == "succeeded"
    error = error_of(shop.client.post(f"/v1/payments/{created['id']}/close"), 409)
    assert error["code"] == "payment_not_closable"
    assert shop.payment(created["id"])["status"] == "succeeded"
    assert sim_order(tongbao, created["attempts"][0]["channel_order_no"])["trade_state"] == "SUCCESS"


def test_another_merchants_payment_cannot_be_closed(
    tongbao: Stack, admin: httpx.Client, shop: WeChatMerchant
) -> None:
    created = ok(shop.create_payment(), 201)
    other = wechat_merchant(tongbao, admin)
    try:
        error = error_of(other.client.post(f"/v1/payments/{created['id']}/close"), 404)
    finally:
        other.client.close()
    assert error["code"] == "payment_not_found"
    assert shop.payment(created["id"])["status"] == "pending"
    assert sim_order(tongbao, created["attempts"][0]["channel_order_no"])["trade_state"] == "NOTPAY"


# --- actions -------------------------------------------------------------------------------------


def signed_by_merchant(tongbao: Stack, shop: WeChatMerchant, signature: str, *parts: str) -> bool:
    """RSA-SHA256 (PKCS#1 v1.5) over each part and a newline, checked with the merchant's public key
    as registered at WeChat Pay."""
    public_key = tongbao.wechatpay.merchants[shop.mchid].public_key
    signed = "".join(f"{part}\n" for part in parts).encode()
    try:
        public_key.verify(base64.b64decode(signature), signed, padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature:
        return False
    return True


def test_a_native_payment_shows_a_qr_code_and_an_h5_one_redirects(
    tongbao: Stack, shop: WeChatMerchant
) -> None:
    created = ok(shop.create_payment(method="wechat_native"), 201)
    assert set(created["action"]) == {"type", "code_url"}
    assert created["action"]["type"] == "qr_code"
    order = sim_order(tongbao, created["attempts"][0]["channel_order_no"])
    assert order["code_url"] == created["action"]["code_url"]

    created = ok(shop.create_payment(method="wechat_h5", client_ip="203.0.113.7"), 201)
    assert set(created["action"]) == {"type", "url"}
    assert created["action"]["type"] == "redirect"
    order = sim_order(tongbao, created["attempts"][0]["channel_order_no"])
    assert created["action"]["url"] == order["h5_url"]
    assert httpx.get(created["action"]["url"], timeout=10).status_code == 200


def test_a_jsapi_payment_carries_a_pay_sign_made_with_the_merchant_key(
    tongbao: Stack, shop: WeChatMerchant
) -> None:
    created = ok(
        shop.create_payment(method="wechat_jsapi", payer={"openid": "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"}), 201
    )
    action = created["action"]
    assert set(action) == {"type", "appId", "timeStamp", "nonceStr", "package", "signType", "paySign"}
    assert (action["type"], action["appId"], action["signType"]) == ("jsapi", shop.appid, "RSA")
    order = sim_order(tongbao, created["attempts"][0]["channel_order_no"])
    assert action["package"] == f"prepay_id={order['prepay_id']}"
    assert order["payer"] == {"openid": "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"}
    assert action["timeStamp"].isdigit() and action["nonceStr"]
    parts = (action["appId"], action["timeStamp"], action["nonceStr"], action["package"])
    assert signed_by_merchant(tongbao, shop, action["paySign"], *parts)
    assert not signed_by_merchant(tongbao, shop, action["paySign"], *parts[:3], "prepay_id=wx0")


def test_an_app_payment_carries_a_sign_made_with_the_merchant_key(
    tongbao: Stack, shop: WeChatMerchant
) -> None:
    created = ok(shop.create_payment(method="wechat_app"), 201)
    action = created["action"]
    keys = {"type", "appid", "partnerid", "prepayid", "package", "noncestr", "timestamp", "sign"}
    assert set(action) == keys
    assert (action["type"], action["appid"], action["partnerid"]) == ("app", shop.appid, shop.mchid)
    assert action["package"] == "Sign=WXPay"
    order = sim_order(tongbao, created["attempts"][0]["channel_order_no"])
    assert action["prepayid"] == order["prepay_id"]
    parts = (action["appid"], action["timestamp"], action["noncestr"], action["prepayid"])
    assert signed_by_merchant(tongbao, shop, action["sign"], *parts)
    assert not signed_by_merchant(tongbao, shop, action["sign"], *parts[:3], "wx0")


def test_a_payment_without_method_sends_the_payer_to_the_cashier(
    tongbao: Stack, admin: httpx.Client, shop: WeChatMerchant
) -> None:
    created = ok(shop.client.post("/v1/payments", json=body_with(method=MISSING, amount=1234)), 201)
    assert created["method"] is None
    assert created["attempts"] == []
    assert created["action"] == {"type": "redirect", "url": f"{tongbao.url}/pay/{created['id']}"}
    assert sim_orders(tongbao, shop.mchid) == []

    page = httpx.get(created["action"]["url"], timeout=10)
    assert (page.status_code, page.headers["content-type"][:9]) == (200, "text/html")
    merchant = ok(admin.get(f"/admin/v1/merchants/{shop.merchant_id}"))
    assert merchant["name"] in page.text
    assert "12.34" in page.text
    assert "Latte" in page.text
