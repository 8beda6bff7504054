"""Requests the framework refuses before any of our code runs still get our error shape: the field at
fault in ``param`` (a dotted path when nested, ``body`` for the body as a whole) and a message in
our own words."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from tongbao.client import TongbaoClient
from tongbao.money import MAX_AMOUNT

from ..support.factories import active_merchant, channel_account_body, create_app, create_merchant, error_of
from ..support.stack import Stack

MakeClient = Callable[..., TongbaoClient]

A_PAYMENT = {"out_trade_no": "V-1", "amount": 100, "subject": "Tea", "method": "wechat_native"}
NOT_AN_OBJECT = "the body must be a JSON object"
A_REFUND = {"payment_id": "pay_01NOSUCHPAYMENT000000000000", "out_refund_no": "R-1", "amount": 100}


@pytest.fixture
def client(make_client: MakeClient, tongbao: Stack, admin: httpx.Client) -> TongbaoClient:
    merchant = active_merchant(admin)
    app = create_app(admin, merchant["id"])
    return make_client(app["id"], app["secret"])


def _refusal(response: httpx.Response) -> tuple[str, str | None, str]:
    error = error_of(response, 400)
    return error["code"], error["param"], error["message"]


def _without(body: dict[str, Any], name: str) -> dict[str, Any]:
    return {k: v for k, v in body.items() if k != name}


@pytest.mark.parametrize(
    ("path", "body", "expected"),
    [
        (
            "/v1/payments",
            _without(A_PAYMENT, "subject"),
            ("parameter_missing", "subject", "subject is required"),
        ),
        ("/v1/payments", ["not", "an", "object"], ("parameter_invalid", "body", NOT_AN_OBJECT)),
        (
            "/v1/refunds",
            _without(A_REFUND, "out_refund_no"),
            ("parameter_missing", "out_refund_no", "out_refund_no is required"),
        ),
        ("/v1/refunds", "just a string", ("parameter_invalid", "body", NOT_AN_OBJECT)),
    ],
)
def test_the_merchant_api_names_the_field_in_its_own_words(
    client: TongbaoClient, path: str, body: Any, expected: tuple[str, str, str]
) -> None:
    assert _refusal(client.post(path, body)) == expected


@pytest.mark.parametrize("path", ["/v1/payments", "/v1/refunds"])
def test_an_empty_body_is_named_as_the_body(client: TongbaoClient, path: str) -> None:
    assert _refusal(client.post(path)) == (
        "parameter_missing",
        "body",
        "the body is required: send a JSON object",
    )


MERCHANT = {"name": "Tea House", "legal_name": "Tea House Co., Ltd."}


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"legal_name": "L"}, ("parameter_missing", "name", "name is required")),
        ({**MERCHANT, "fax": "1"}, ("parameter_unknown", "fax", "fax is not a field of this request")),
        ({**MERCHANT, "name": ""}, ("parameter_invalid", "name", "name must not be empty")),
        (
            {**MERCHANT, "name": "x" * 101},
            ("parameter_invalid", "name", "name must be at most 100 characters"),
        ),
        ({**MERCHANT, "name": 7}, ("parameter_invalid", "name", "name must be a string")),
        (
            {**MERCHANT, "contact_email": "nobody"},
            ("parameter_invalid", "contact_email", "contact_email is not in the expected format"),
        ),
        (
            {**MERCHANT, "name": "Tea\x00House"},
            ("parameter_invalid", "name", "name must not contain NUL characters"),
        ),
    ],
)
def test_the_operator_api_names_the_field_in_its_own_words(
    admin: httpx.Client, body: dict[str, Any], expected: tuple[str, str, str]
) -> None:
    assert _refusal(admin.post("/admin/v1/merchants", json=body)) == expected
    assert admin.get("/admin/v1/merchants").json()["data"] == []


def test_nested_fields_are_named_by_their_dotted_path(admin: httpx.Client) -> None:
    merchant = create_merchant(admin)
    body = {"merchant_id": merchant["id"], "name": "Till", "ip_allowlist": ["10.0.0.1", "x" * 65]}
    assert _refusal(admin.post("/admin/v1/apps", json=body)) == (
        "parameter_invalid",
        "ip_allowlist.1",
        "ip_allowlist.1 must be at most 64 characters",
    )


def test_types_enums_and_bounds_are_explained(admin: httpx.Client) -> None:
    account = {"name": "Acct", "channel": "paypal", "mode": "shared", "credentials": {}}
    assert _refusal(admin.post("/admin/v1/channel-accounts", json=account)) == (
        "parameter_invalid",
        "channel",
        "channel must be one of 'wechatpay', 'alipay' or 'unionpay'",
    )
    account = {**account, "channel": "wechatpay", "config": 5}
    assert _refusal(admin.post("/admin/v1/channel-accounts", json=account)) == (
        "parameter_invalid",
        "config",
        "config must be an object",
    )
    rotate = admin.post("/admin/v1/apps/app_01NOSUCHAPP/rotate-secret", json={"overlap_seconds": "soon"})
    assert _refusal(rotate) == ("parameter_invalid", "overlap_seconds", "overlap_seconds must be an integer")
    assert _refusal(admin.get("/admin/v1/merchants", params={"limit": 0})) == (
        "parameter_invalid",
        "limit",
        "limit must be at least 1",
    )


def test_a_body_that_is_not_json_is_named_as_the_body(admin: httpx.Client) -> None:
    broken = admin.post(
        "/admin/v1/merchants", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert _refusal(broken) == ("body_invalid_json", "body", "the body is not valid JSON")


def test_limits_explain_their_bounds_and_types(admin: httpx.Client) -> None:
    account = admin.post("/admin/v1/channel-accounts", json=channel_account_body("alipay")).json()
    limits = f"/admin/v1/channel-accounts/{account['id']}/limits"
    ceiling = MAX_AMOUNT * 10_000
    for body, message in (
        ({"single_max_amount": 0}, "single_max_amount must be at least 1"),
        ({"daily_max_amount": ceiling + 1}, f"daily_max_amount must be at most {ceiling}"),
        ({"single_max_amount": "100"}, "single_max_amount must be an integer"),
    ):
        param = next(iter(body))
        assert _refusal(admin.put(limits, json=body)) == ("parameter_invalid", param, message)
