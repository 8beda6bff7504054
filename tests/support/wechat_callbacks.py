"""Hand-made WeChat Pay callbacks, signed (or not) like the platform signs them, for the tests that
check which ones Tongbao believes."""

from __future__ import annotations

import functools
import json
import secrets
from dataclasses import dataclass
from typing import Any

import httpx
from cryptography.hazmat.primitives.asymmetric import rsa

from tongbao.channels.wechatpay import protocol
from tongbao.security import samples

from .stack import Stack
from .wechat import WeChatMerchant, wechat_merchant


@functools.cache
def stranger_key() -> rsa.RSAPrivateKey:
    """An RSA key that is not the platform's."""
    return samples.new_rsa_key()


@dataclass
class Callback:
    account_id: str
    body: bytes
    headers: dict[str, str]
    channel: str = "wechatpay"


@dataclass
class Scene:
    tongbao: Stack
    admin: httpx.Client
    shop: WeChatMerchant
    payment: dict[str, Any]
    other: WeChatMerchant | None = None

    @property
    def order_no(self) -> str:
        return str(self.payment["attempts"][0]["channel_order_no"])

    def apiv3_key(self, merchant: WeChatMerchant | None = None) -> bytes:
        """The merchant's API v3 key, as WeChat Pay holds it to encrypt the merchant's callbacks."""
        return self.tongbao.wechatpay.merchants[(merchant or self.shop).mchid].apiv3_key

    def transaction(self, merchant: WeChatMerchant | None = None, **changes: Any) -> dict[str, Any]:
        merchant = merchant or self.shop
        total = self.payment["amount"]
        return {
            "appid": merchant.appid,
            "mchid": merchant.mchid,
            "out_trade_no": self.order_no,
            "transaction_id": "4200001234" + "".join(secrets.choice("0123456789") for _ in range(18)),
            "trade_type": "NATIVE",
            "trade_state": "SUCCESS",
            "trade_state_desc": "支付成功",
            "bank_type": "OTHERS",
            "attach": "",
            "success_time": protocol.rfc3339(self.tongbao.clock.now()),
            "amount": {"total": total, "payer_total": total, "currency": "CNY", "payer_currency": "CNY"},
            "payer": {"openid": "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"},
            **changes,
        }

    def envelope(
        self,
        content: dict[str, Any],
        apiv3_key: bytes | None = None,
        *,
        event_type: str = "TRANSACTION.SUCCESS",
        original_type: str = "transaction",
        summary: str = "支付成功",
    ) -> bytes:
        nonce = secrets.token_hex(6)
        plaintext = json.dumps(content, ensure_ascii=False).encode()
        resource = {
            "original_type": original_type,
            "algorithm": protocol.AEAD_ALGORITHM,
            "ciphertext": protocol.encrypt(apiv3_key or self.apiv3_key(), nonce, original_type, plaintext),
            "associated_data": original_type,
            "nonce": nonce,
        }
        body = {
            "id": secrets.token_hex(16),
            "create_time": protocol.rfc3339(self.tongbao.clock.now()),
            "resource_type": "encrypt-resource",
            "event_type": event_type,
            "summary": summary,
            "resource": resource,
        }
        return json.dumps(body, ensure_ascii=False).encode()

    def signed(
        self, body: bytes, *, key: rsa.RSAPrivateKey | None = None, serial: str | None = None,
        age_s: int = 0, account_id: str | None = None,
    ) -> Callback:  # fmt: skip
        platform = self.tongbao.wechatpay.platform
        timestamp = str(int(self.tongbao.clock.now().timestamp()) - age_s)
        nonce = protocol.new_nonce()
        headers = {
            "Content-Type": "application/json",
            protocol.HEADER_TIMESTAMP: timestamp,
            protocol.HEADER_NONCE: nonce,
            protocol.HEADER_SIGNATURE: protocol.sign(
                key or platform.key, protocol.message(timestamp, nonce, body)
            ),
            protocol.HEADER_SERIAL: platform.public_key_id if serial is None else serial,
            protocol.HEADER_SIGNATURE_TYPE: protocol.SCHEME,
        }
        return Callback(account_id or self.shop.account_id, body, headers)

    def genuine(self, **changes: Any) -> Callback:
        return self.signed(self.envelope(self.transaction(**changes)))

    def other_merchant(self) -> WeChatMerchant:
        """A second merchant with its own WeChat Pay account, made once per test."""
        if self.other is None:
            self.other = wechat_merchant(self.tongbao, self.admin)
            self.other.client.close()
        return self.other


def send(tongbao: Stack, callback: Callback, about: str = "") -> httpx.Response:
    """``about``: "" for payment callbacks, "/refunds" for refund callbacks."""
    url = f"{tongbao.url}/callbacks/{callback.channel}/{callback.account_id}{about}"
    return httpx.post(url, content=callback.body, headers=callback.headers, timeout=10)
