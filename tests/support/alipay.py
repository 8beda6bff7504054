"""A merchant taking Alipay through the simulator, set up through the APIs like any operator would."""

from __future__ import annotations

import secrets
from typing import Any

import httpx

from tongbao.security import samples

from .factories import merchant_key, ok
from .stack import Stack
from .wechat import WeChatMerchant

ALIPAY_METHODS = ["alipay_qr", "alipay_page", "alipay_wap", "alipay_app", "alipay_barcode"]


def add_alipay(stack: Stack, admin: httpx.Client, shop: WeChatMerchant, mode: str = "shared") -> str:
    """Gives ``shop`` an Alipay account (registered at the simulator), bound, with its methods on."""
    key = merchant_key()
    app_id = f"2021{secrets.randbelow(10**12):012d}"
    registered = ok(
        httpx.post(
            f"{stack.alipay_url}/_control/merchants",
            json={"app_id": app_id, "public_key_pem": samples.public_pem(key)},
            timeout=10,
        )
    )
    body: dict[str, Any] = {
        "name": f"Alipay {app_id}",
        "channel": "alipay",
        "mode": mode,
        "base_url": f"{stack.alipay_url}/gateway.do",
        "config": {"app_id": app_id, "alipay_public_key_pem": registered["alipay_public_key_pem"]},
        "credentials": {"app_private_key_pem": samples.private_pem(key)},
    }
    if mode == "own":
        body["merchant_id"] = shop.merchant_id
    account = ok(admin.post("/admin/v1/channel-accounts", json=body), 201)
    ok(
        admin.put(
            f"/admin/v1/merchants/{shop.merchant_id}/channels/alipay",
            json={"channel_account_id": account["id"]},
        )
    )
    methods = ok(admin.get(f"/admin/v1/merchants/{shop.merchant_id}/methods"))["methods"]
    ok(
        admin.put(
            f"/admin/v1/merchants/{shop.merchant_id}/methods", json={"methods": methods + ALIPAY_METHODS}
        )
    )
    return str(account["id"])


def alipay_pay(stack: Stack, **selector: Any) -> dict[str, Any]:
    return ok(httpx.post(f"{stack.alipay_url}/_control/pay", json=selector, timeout=10))  # type: ignore[no-any-return]


def alipay_order(stack: Stack, out_trade_no: str) -> httpx.Response:
    return httpx.get(f"{stack.alipay_url}/_control/orders/{out_trade_no}", timeout=10)
