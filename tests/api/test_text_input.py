"""Text that is not Unicode (a lone UTF-16 surrogate, valid JSON all the same) is refused at the
edge with 400 ``parameter_invalid`` naming the field, on every endpoint, and changes nothing."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from tongbao.client import TongbaoClient

from ..support.factories import create_merchant, error_of
from ..support.stack import Stack
from ..support.wechat import WeChatMerchant

LONE = "\ud800"


def body_of(payload: Any) -> bytes:
    # ensure_ascii spells the surrogate as the JSON escape "\ud800", as a client library would.
    return json.dumps(payload, ensure_ascii=True).encode()


def signed_post(tongbao: Stack, client: TongbaoClient, path: str, body: bytes) -> httpx.Response:
    headers = {**client.sign("POST", path, body), "Content-Type": "application/json"}
    response = httpx.post(tongbao.url + path, content=body, headers=headers, timeout=30)
    client.verify_response(response)  # refusals after authentication are signed
    return response


def refused(response: httpx.Response, param: str) -> None:
    error = error_of(response, 400)
    assert (error["code"], error["param"]) == ("parameter_invalid", param), error
    assert error["request_id"] == response.headers["tongbao-request-id"]


def payment(**fields: Any) -> dict[str, Any]:
    body = {"out_trade_no": "text-1", "amount": 1234, "subject": "Latte", "method": "wechat_native"}
    return {**body, **fields}


@pytest.mark.parametrize(
    ("payload", "param"),
    [
        (payment(subject=f"Latte {LONE}"), "subject"),
        (payment(return_url=f"https://shop.example/back?x={LONE}"), "return_url"),
        (payment(metadata={"table": f"7{LONE}"}), "metadata.table"),
        (payment(metadata={LONE: "7"}), "metadata.\\ud800"),
        (payment(payer={"openid": "\udc00abc"}), "payer.openid"),
    ],
    ids=["subject", "return_url", "metadata value", "metadata key", "payer.openid"],
)
def test_payments(tongbao: Stack, shop: WeChatMerchant, payload: dict[str, Any], param: str) -> None:
    refused(signed_post(tongbao, shop.client, "/v1/payments", body_of(payload)), param)
    assert error_of(shop.client.get("/v1/payments", params={"out_trade_no": "text-1"}), 404)


def test_payments_raw_utf8_surrogate_bytes(tongbao: Stack, shop: WeChatMerchant) -> None:
    # The UTF-8 bytes of a surrogate, not its escape: Python's JSON decoder lets them through too.
    body = body_of(payment(subject="Latte SURROGATE")).replace(b"SURROGATE", b"\xed\xa0\x80")
    refused(signed_post(tongbao, shop.client, "/v1/payments", body), "subject")
    assert error_of(shop.client.get("/v1/payments", params={"out_trade_no": "text-1"}), 404)


def test_refunds(tongbao: Stack, shop: WeChatMerchant) -> None:
    body = body_of({"payment_id": f"pay_{LONE}", "out_refund_no": "R1", "amount": 100})
    refused(signed_post(tongbao, shop.client, "/v1/refunds", body), "payment_id")


def test_echo(tongbao: Stack, shop: WeChatMerchant) -> None:
    body = body_of({"note": {"lines": ["fine", f"{LONE}"]}})
    refused(signed_post(tongbao, shop.client, "/v1/echo", body), "note.lines.1")
    # A surrogate pair is one character, which is fine.
    fine = signed_post(tongbao, shop.client, "/v1/echo", body_of({"note": "\U0001f375"}))
    assert fine.status_code == 200 and fine.json()["body"] == {"note": "\U0001f375"}


def test_admin_apps(admin: httpx.Client) -> None:
    body = body_of({"merchant_id": f"mch_{LONE}", "name": "An app"})
    response = admin.post("/admin/v1/apps", content=body, headers={"Content-Type": "application/json"})
    refused(response, "merchant_id")
    assert admin.get("/admin/v1/apps").json()["data"] == []


def test_admin_merchants(admin: httpx.Client) -> None:
    body = body_of({"name": "Shop", "legal_name": f"Shop {LONE} Ltd."})
    response = admin.post("/admin/v1/merchants", content=body, headers={"Content-Type": "application/json"})
    refused(response, "legal_name")
    assert admin.get("/admin/v1/merchants").json()["data"] == []


def test_admin_channel_binding(admin: httpx.Client) -> None:
    merchant = create_merchant(admin)
    path = f"/admin/v1/merchants/{merchant['id']}/channels/wechatpay"
    body = body_of({"channel_account_id": f"cha_{LONE}"})
    refused(admin.put(path, content=body, headers={"Content-Type": "application/json"}), "channel_account_id")
    assert admin.get(f"/admin/v1/merchants/{merchant['id']}/channels").json() == []


# NUL is Unicode, but PostgreSQL text cannot hold it: an id, a filter or a field holding one is
# bad input on every backend, not a failure of the database.
NUL_IN_URL = [
    ("/v1/payments/pay_1%00", "payment_id"),
    ("/v1/payments?out_trade_no=a%00b", "out_trade_no"),
    ("/v1/refunds?payment_id=%00", "payment_id"),
    ("/v1/refunds/rf%00", "refund_id"),
    ("/v1/notifications/evt%00", "event_id"),
]
NUL_IN_ADMIN_URL = [
    ("/admin/v1/merchants/mch%00", "merchant_id"),
    ("/admin/v1/refunds?merchant_id=%00", "merchant_id"),
    ("/admin/v1/exception-cases/case%00", "case_id"),
]


def test_nul_in_an_id_filter_or_field_is_refused(
    tongbao: Stack, shop: WeChatMerchant, admin: httpx.Client
) -> None:
    for path, param in NUL_IN_URL:
        refused(shop.client.get(path), param)
    for path, param in NUL_IN_ADMIN_URL:
        refused(admin.get(path), param)
    refused(admin.post("/admin/v1/apps", json={"merchant_id": "mch\x00", "name": "Till"}), "merchant_id")
    refused(shop.client.post("/v1/payments", json=payment(metadata={"table": "7\x00"})), "metadata.table")
    refused(shop.client.post("/v1/payments", json=payment(client_ip="1\x00")), "client_ip")
