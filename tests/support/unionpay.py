"""A merchant taking UnionPay through the simulator, with its own merchant number and certificate."""

from __future__ import annotations

import secrets
from typing import Any

import httpx

from tongbao.security import samples

from .factories import merchant_key, ok
from .stack import Stack
from .wechat import WeChatMerchant

UNIONPAY_METHODS = ["unionpay_web", "unionpay_wap"]


def add_unionpay(stack: Stack, admin: httpx.Client, shop: WeChatMerchant, mode: str = "own") -> str:
    key = merchant_key()
    mer_id = f"777{secrets.randbelow(10**12):012d}"
    certificate = samples.self_signed_certificate(key, mer_id)
    registered = ok(
        httpx.post(
            f"{stack.unionpay_url}/_control/merchants",
            json={"mer_id": mer_id, "certificate_pem": certificate},
            timeout=10,
        )
    )
    body: dict[str, Any] = {
        "name": f"UnionPay {mer_id}",
        "channel": "unionpay",
        "mode": mode,
        "base_url": stack.unionpay_url,
        "config": {"mer_id": mer_id, "unionpay_certificate_pem": registered["unionpay_certificate_pem"]},
        "credentials": {
            "signing_private_key_pem": samples.private_pem(key),
            "signing_certificate_pem": certificate,
        },
    }
    if mode == "own":
        body["merchant_id"] = shop.merchant_id
    account = ok(admin.post("/admin/v1/channel-accounts", json=body), 201)
    binding = {"channel_account_id": account["id"]}
    ok(admin.put(f"/admin/v1/merchants/{shop.merchant_id}/channels/unionpay", json=binding))
    methods = ok(admin.get(f"/admin/v1/merchants/{shop.merchant_id}/methods"))["methods"]
    ok(
        admin.put(
            f"/admin/v1/merchants/{shop.merchant_id}/methods", json={"methods": methods + UNIONPAY_METHODS}
        )
    )
    return str(account["id"])


def unionpay_order_id(order_no: str) -> str:
    """UnionPay order ids carry no underscore: pat_01… is pat01… there."""
    return order_no.replace("_", "")
