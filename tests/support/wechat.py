"""A merchant ready to take WeChat Pay payments: active, with an app, a WeChat Pay account
registered at the simulator, bound and with the methods switched on — all through the APIs."""

from __future__ import annotations

import itertools
import secrets
from dataclasses import dataclass
from typing import Any

import httpx

from tongbao.client import TongbaoClient
from tongbao.security import samples

from .factories import active_merchant, create_app, merchant_key, ok
from .stack import Stack

_mchids = itertools.count(1)
WECHAT_METHODS = ["wechat_native", "wechat_jsapi", "wechat_h5", "wechat_app"]


@dataclass
class WeChatMerchant:
    merchant_id: str
    app_id: str
    app_secret: str
    account_id: str
    mchid: str
    appid: str
    client: TongbaoClient

    def create_payment(self, **fields: Any) -> httpx.Response:
        body = {
            "out_trade_no": f"order-{secrets.token_hex(6)}",
            "amount": 1234,
            "subject": "Latte",
            "method": "wechat_native",
            **fields,
        }
        return self.client.post("/v1/payments", json=body)

    def payment(self, payment_id: str) -> dict[str, Any]:
        return ok(self.client.get(f"/v1/payments/{payment_id}"))  # type: ignore[no-any-return]


def register_at_simulator(stack: Stack, mchid: str, appid: str, serial_no: str, public_pem: str, apiv3: str,
                          verification: str = "public_key") -> dict[str, Any]:  # fmt: skip
    body = {
        "mchid": mchid,
        "appid": appid,
        "serial_no": serial_no,
        "public_key_pem": public_pem,
        "apiv3_key": apiv3,
        "platform_verification": verification,
    }
    return ok(httpx.post(f"{stack.wechatpay_url}/_control/merchants", json=body, timeout=10))  # type: ignore[no-any-return]


def wechat_merchant(
    stack: Stack,
    admin: httpx.Client,
    *,
    notify_url: str | None = None,
    methods: list[str] | None = None,
    verification: str = "public_key",
    mode: str = "shared",
) -> WeChatMerchant:
    merchant = active_merchant(admin)
    app = create_app(admin, merchant["id"], **({"notify_url": notify_url} if notify_url else {}))
    key = merchant_key()
    mchid, appid = f"1900{next(_mchids):06d}", f"wx{secrets.token_hex(8)}"
    serial_no, apiv3 = secrets.token_hex(20).upper(), secrets.token_hex(16)
    platform = register_at_simulator(
        stack, mchid, appid, serial_no, samples.public_pem(key), apiv3, verification
    )
    config = {"mchid": mchid, "appid": appid, "merchant_serial_no": serial_no}
    if verification == "public_key":
        config["platform_public_key_id"] = platform["platform_public_key_id"]
        config["platform_public_key_pem"] = platform["platform_public_key_pem"]
    body: dict[str, Any] = {
        "name": f"WeChat Pay {mchid}",
        "channel": "wechatpay",
        "mode": mode,
        "base_url": stack.wechatpay_url,
        "config": config,
        "credentials": {"private_key_pem": samples.private_pem(key), "apiv3_key": apiv3},
    }
    if mode == "own":
        body["merchant_id"] = merchant["id"]
    account = ok(admin.post("/admin/v1/channel-accounts", json=body), 201)
    ok(
        admin.put(
            f"/admin/v1/merchants/{merchant['id']}/channels/wechatpay",
            json={"channel_account_id": account["id"]},
        )
    )
    ok(
        admin.put(
            f"/admin/v1/merchants/{merchant['id']}/methods", json={"methods": methods or WECHAT_METHODS}
        )
    )
    # The client signs with the server's (movable) clock, as a well-synchronised app would.
    client = TongbaoClient(
        stack.url, app["id"], app["secret"], timeout_s=30, now=lambda: stack.clock.now().timestamp()
    )
    return WeChatMerchant(merchant["id"], app["id"], app["secret"], account["id"], mchid, appid, client)


def sim_pay(stack: Stack, **selector: Any) -> dict[str, Any]:
    return ok(httpx.post(f"{stack.wechatpay_url}/_control/pay", json=selector, timeout=10))  # type: ignore[no-any-return]


def sim_order(stack: Stack, out_trade_no: str) -> dict[str, Any]:
    response = httpx.get(f"{stack.wechatpay_url}/_control/orders/{out_trade_no}", timeout=10)
    return ok(response)  # type: ignore[no-any-return]


def sim_faults(stack: Stack, *rules: dict[str, Any], seed: int = 7) -> None:
    ok(
        httpx.put(
            f"{stack.wechatpay_url}/_control/faults", json={"seed": seed, "rules": list(rules)}, timeout=10
        )
    )
