"""The bytes the WeChat Pay adapter puts on the wire, and how it reads documented answers.

The adapter talks to an ``httpx.MockTransport`` that records each request and answers with a body
shaped like the API documentation's example, signed here (with ``cryptography`` alone) by a platform
key. Every request's Authorization header is checked against the "签名生成" rules independently of
``channels/wechatpay/protocol.py``.

Sources: "Native下单" / "JSAPI下单" / "H5下单" / "APP下单", "查询订单" (商户订单号查询),
"关闭订单", "退款申请", "查询单笔退款（通过商户退款单号）", "获取平台证书列表"
(pay.weixin.qq.com/docs/merchant/apis/...; paths under https://api.mch.weixin.qq.com).
"""

from __future__ import annotations

import asyncio
import base64
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from tongbao.channels.base import OrderRequest, OrderState, RefundRequest, RefundState
from tongbao.channels.kinds import Method
from tongbao.channels.wechatpay.adapter import WeChatPayAdapter
from tongbao.channels.wechatpay.platform_keys import CertificateCache
from tongbao.security import samples

BASE_URL = "https://api.mch.weixin.qq.com"
MCHID = "1230000109"
APPID = "wxd678efh567hg6787"
MERCHANT_SERIAL = "1DDE55AD98ED71D6EDD4A4A16996DE7B47773A8C"
PUBLIC_KEY_ID = "PUB_KEY_ID_0112345678901234567890"
APIV3_KEY = b"0123456789abcdef0123456789ABCDEF"
NOW = datetime(2018, 6, 8, 2, 0, 0, tzinfo=UTC)
BEIJING = timezone(timedelta(hours=8))
ORDER_NO = "1217752501201407033233368018"
AUTH = re.compile(r"WECHATPAY2-SHA256-RSA2048 (.+)")
AUTH_FIELD = re.compile(r'([a-z_]+)="([^"]*)"')

_keys: dict[str, rsa.RSAPrivateKey] = {}


def key(name: str) -> rsa.RSAPrivateKey:
    if name not in _keys:
        _keys[name] = samples.new_rsa_key()
    return _keys[name]


def rsa_sign(private: rsa.RSAPrivateKey, data: bytes) -> str:
    return base64.b64encode(private.sign(data, padding.PKCS1v15(), hashes.SHA256())).decode()


def rsa_ok(public: rsa.RSAPublicKey, data: bytes, signature: str) -> bool:
    try:
        public.verify(base64.b64decode(signature), data, padding.PKCS1v15(), hashes.SHA256())
    except Exception:
        return False
    return True


class FixedClock:
    def now(self) -> datetime:
        return NOW


Answer = tuple[int, Any]


@dataclass
class Channel:
    """Records requests; answers each with the next queued (status, JSON or None) signed by
    ``platform`` under ``serial``."""

    platform: rsa.RSAPrivateKey
    serial: str
    answers: list[Answer | Callable[[httpx.Request], Answer]] = field(default_factory=list)
    seen: list[httpx.Request] = field(default_factory=list)

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(request)
        answer = self.answers.pop(0)
        status, payload = answer(request) if callable(answer) else answer
        body = b"" if payload is None else json.dumps(payload, ensure_ascii=False).encode()
        timestamp, nonce = "1528423200", "c5ac7061fccab6bf3e254dcf98995b8c"
        headers = {
            "Request-ID": "08F4B4B5D60610B1DF8F8F8F8F8F8F8F8F8F8F8F",
            "Wechatpay-Serial": self.serial,
            "Wechatpay-Timestamp": timestamp,
            "Wechatpay-Nonce": nonce,
            "Wechatpay-Signature": rsa_sign(self.platform, f"{timestamp}\n{nonce}\n".encode() + body + b"\n"),
            "Wechatpay-Signature-Type": "WECHATPAY2-SHA256-RSA2048",
        }
        if body:
            headers["Content-Type"] = "application/json; charset=utf-8"
        return httpx.Response(status, content=body, headers=headers)


def adapter_for(channel: Channel, *, public_key_mode: bool = True) -> WeChatPayAdapter:
    config = {"mchid": MCHID, "appid": APPID, "merchant_serial_no": MERCHANT_SERIAL}
    if public_key_mode:
        config["platform_public_key_id"] = PUBLIC_KEY_ID
        config["platform_public_key_pem"] = samples.public_pem(channel.platform)
    return WeChatPayAdapter(
        account_id="chacc_wire",
        base_url=BASE_URL,
        config=config,
        credentials={
            "private_key_pem": samples.private_pem(key("merchant")),
            "apiv3_key": APIV3_KEY.decode(),
        },
        http=httpx.AsyncClient(transport=httpx.MockTransport(channel.handle)),
        clock=FixedClock(),
        certificates=CertificateCache(),
    )


@pytest.fixture(name="channel")
def channel_fixture() -> Channel:
    return Channel(key("platform"), PUBLIC_KEY_ID)


def check_signed(request: httpx.Request) -> dict[str, str]:
    """The Authorization header as "签名生成" describes it, verified with the merchant's public key
    over METHOD\\nURL\\nTIMESTAMP\\nNONCE\\nBODY\\n, URL being the path and query actually sent."""
    match = AUTH.fullmatch(request.headers["Authorization"])
    assert match is not None, request.headers["Authorization"]
    fields = dict(AUTH_FIELD.findall(match.group(1)))
    assert set(fields) == {"mchid", "nonce_str", "signature", "timestamp", "serial_no"}
    assert fields["mchid"] == MCHID
    assert fields["serial_no"] == MERCHANT_SERIAL
    assert fields["timestamp"] == str(int(NOW.timestamp()))
    assert fields["nonce_str"]
    signed = (
        f"{request.method}\n{request.url.raw_path.decode()}\n{fields['timestamp']}\n{fields['nonce_str']}\n".encode()
        + request.content
        + b"\n"
    )
    assert rsa_ok(key("merchant").public_key(), signed, fields["signature"])
    assert request.headers["Accept"] == "application/json"
    assert request.headers.get("User-Agent")
    return fields


def order(method: Method, **changes: Any) -> OrderRequest:
    values: dict[str, Any] = {
        "order_no": ORDER_NO,
        "method": method,
        "amount": 8888,
        "currency": "CNY",
        "subject": "Image形象店-深圳腾大-QQ公仔",
        "notify_url": "https://www.weixin.qq.com/wxpay/pay.php",
        "expires_at": datetime(2018, 6, 8, 10, 34, 56, tzinfo=BEIJING),
        **changes,
    }
    return OrderRequest(**values)


def json_body(request: httpx.Request) -> Any:
    assert request.headers["Content-Type"] == "application/json"
    return json.loads(request.content)


def base_body() -> dict[str, Any]:
    return {
        "appid": APPID,
        "mchid": MCHID,
        "description": "Image形象店-深圳腾大-QQ公仔",
        "out_trade_no": ORDER_NO,
        "time_expire": "2018-06-08T10:34:56+08:00",
        "notify_url": "https://www.weixin.qq.com/wxpay/pay.php",
        "amount": {"total": 8888, "currency": "CNY"},
    }


# -- create -------------------------------------------------------------------------------------------


def test_native_create(channel: Channel) -> None:
    channel.answers.append((200, {"code_url": "weixin://wxpay/bizpayurl?pr=p4lpSuKzz"}))
    action = asyncio.run(adapter_for(channel).create(order(Method.WECHAT_NATIVE)))
    (request,) = channel.seen
    assert request.method == "POST"
    assert str(request.url) == f"{BASE_URL}/v3/pay/transactions/native"
    check_signed(request)
    # The amount is integer fen ("total … 单位为分"), never a yuan string.
    assert json_body(request) == base_body()
    assert action.type == "qr_code"
    assert dict(action.data) == {"code_url": "weixin://wxpay/bizpayurl?pr=p4lpSuKzz"}


def test_jsapi_create_and_its_pay_sign(channel: Channel) -> None:
    channel.answers.append((200, {"prepay_id": "wx201410272009395522657a690389285100"}))
    action = asyncio.run(
        adapter_for(channel).create(order(Method.WECHAT_JSAPI, payer_openid="oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"))
    )
    (request,) = channel.seen
    assert str(request.url) == f"{BASE_URL}/v3/pay/transactions/jsapi"
    check_signed(request)
    assert json_body(request) == {**base_body(), "payer": {"openid": "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"}}
    data = dict(action.data)
    assert action.type == "jsapi"
    assert set(data) == {"appId", "timeStamp", "nonceStr", "package", "signType", "paySign"}
    assert data["appId"] == APPID and data["timeStamp"] == str(int(NOW.timestamp()))
    assert data["package"] == "prepay_id=wx201410272009395522657a690389285100"
    assert data["signType"] == "RSA"
    signed = f"{APPID}\n{data['timeStamp']}\n{data['nonceStr']}\n{data['package']}\n".encode()
    assert rsa_ok(key("merchant").public_key(), signed, data["paySign"])


def test_h5_create(channel: Channel) -> None:
    h5_url = "https://wx.tenpay.com/cgi-bin/mmpayweb-bin/checkmweb?prepay_id=wx2916263004719461949c84457c735b0000&package=2150917749"
    channel.answers.append((200, {"h5_url": h5_url}))
    action = asyncio.run(adapter_for(channel).create(order(Method.WECHAT_H5, client_ip="14.23.150.211")))
    (request,) = channel.seen
    assert str(request.url) == f"{BASE_URL}/v3/pay/transactions/h5"
    check_signed(request)
    assert json_body(request) == {
        **base_body(),
        "scene_info": {"payer_client_ip": "14.23.150.211", "h5_info": {"type": "Wap"}},
    }
    assert action.type == "redirect" and dict(action.data) == {"url": h5_url}


def test_app_create_and_its_sign(channel: Channel) -> None:
    channel.answers.append((200, {"prepay_id": "WX1217752501201407033233368018"}))
    action = asyncio.run(adapter_for(channel).create(order(Method.WECHAT_APP)))
    (request,) = channel.seen
    assert str(request.url) == f"{BASE_URL}/v3/pay/transactions/app"
    check_signed(request)
    assert json_body(request) == base_body()
    data = dict(action.data)
    assert action.type == "app"
    assert data["appid"] == APPID and data["partnerid"] == MCHID
    assert data["prepayid"] == "WX1217752501201407033233368018"
    assert data["package"] == "Sign=WXPay"
    signed = f"{APPID}\n{data['timestamp']}\n{data['noncestr']}\n{data['prepayid']}\n".encode()
    assert rsa_ok(key("merchant").public_key(), signed, data["sign"])


# -- query and close ----------------------------------------------------------------------------------

DOC_TRANSACTION: dict[str, Any] = {
    "appid": APPID,
    "mchid": MCHID,
    "out_trade_no": ORDER_NO,
    "transaction_id": "1217752501201407033233368018",
    "trade_type": "NATIVE",
    "trade_state": "SUCCESS",
    "trade_state_desc": "支付成功",
    "bank_type": "CMC",
    "attach": "自定义数据",
    "success_time": "2018-06-08T10:34:56+08:00",
    "payer": {"openid": "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"},
    "amount": {"total": 8888, "payer_total": 8800, "currency": "CNY", "payer_currency": "CNY"},
}


def test_query_by_out_trade_no(channel: Channel) -> None:
    channel.answers.append((200, DOC_TRANSACTION))
    status = asyncio.run(adapter_for(channel).query(ORDER_NO))
    (request,) = channel.seen
    assert request.method == "GET"
    assert str(request.url) == f"{BASE_URL}/v3/pay/transactions/out-trade-no/{ORDER_NO}?mchid={MCHID}"
    assert request.content == b"" and "Content-Type" not in request.headers
    check_signed(request)
    assert status.state is OrderState.SUCCEEDED
    # ``total`` is what the order asked; ``payer_total`` is after coupons.
    assert status.amount == 8888 and status.currency == "CNY"
    assert status.paid_at == datetime(2018, 6, 8, 10, 34, 56, tzinfo=BEIJING)


def test_query_of_an_unknown_order(channel: Channel) -> None:
    channel.answers.append((404, {"code": "ORDER_NOT_EXIST", "message": "订单不存在"}))
    status = asyncio.run(adapter_for(channel).query(ORDER_NO))
    assert status.state is OrderState.NOT_FOUND


def test_close(channel: Channel) -> None:
    channel.answers.append((204, None))  # "关闭订单" answers 204 No Content
    asyncio.run(adapter_for(channel).close(ORDER_NO))
    (request,) = channel.seen
    assert request.method == "POST"
    assert str(request.url) == f"{BASE_URL}/v3/pay/transactions/out-trade-no/{ORDER_NO}/close"
    check_signed(request)
    assert json_body(request) == {"mchid": MCHID}


# -- refunds ------------------------------------------------------------------------------------------

# The answer of "退款申请" / "查询单笔退款", as documented.
DOC_REFUND: dict[str, Any] = {
    "refund_id": "50000000382019052709732678859",
    "out_refund_no": "1217752501201407033233368018",
    "transaction_id": "1217752501201407033233368018",
    "out_trade_no": ORDER_NO,
    "channel": "ORIGINAL",
    "user_received_account": "招商银行信用卡0403",
    "success_time": "2020-12-01T16:18:12+08:00",
    "create_time": "2020-12-01T16:18:12+08:00",
    "status": "SUCCESS",
    "funds_account": "UNSETTLED",
    "amount": {
        "total": 8888,
        "refund": 888,
        "from": [],
        "payer_total": 8888,
        "payer_refund": 888,
        "settlement_refund": 888,
        "settlement_total": 8888,
        "discount_refund": 0,
        "currency": "CNY",
    },
    "promotion_detail": [],
}


def refund_request(**changes: Any) -> RefundRequest:
    values: dict[str, Any] = {
        "refund_no": "1217752501201407033233368018",
        "order_no": ORDER_NO,
        "channel_trade_no": "1217752501201407033233368018",
        "amount": 888,
        "order_amount": 8888,
        "currency": "CNY",
        "notify_url": "https://weixin.qq.com/refund-notify",
        "reason": "商品已售完",
        **changes,
    }
    return RefundRequest(**values)


def test_refund(channel: Channel) -> None:
    processing = {k: v for k, v in DOC_REFUND.items() if k != "success_time"}
    channel.answers.append((200, {**processing, "status": "PROCESSING"}))
    result = asyncio.run(adapter_for(channel).refund(refund_request()))
    (request,) = channel.seen
    assert request.method == "POST"
    assert str(request.url) == f"{BASE_URL}/v3/refund/domestic/refunds"
    check_signed(request)
    assert json_body(request) == {
        "transaction_id": "1217752501201407033233368018",
        "out_refund_no": "1217752501201407033233368018",
        "reason": "商品已售完",
        "notify_url": "https://weixin.qq.com/refund-notify",
        "amount": {"refund": 888, "total": 8888, "currency": "CNY"},
    }
    assert result.state is RefundState.PROCESSING
    assert result.amount == 888 and result.channel_refund_no == "50000000382019052709732678859"


def test_refund_names_the_order_by_out_trade_no_without_a_transaction_id(channel: Channel) -> None:
    channel.answers.append((200, {**DOC_REFUND, "status": "PROCESSING"}))
    asyncio.run(adapter_for(channel).refund(refund_request(channel_trade_no=None, reason=None)))
    body = json_body(channel.seen[0])
    assert body["out_trade_no"] == ORDER_NO
    assert "transaction_id" not in body and "reason" not in body


def test_refund_query_by_out_refund_no(channel: Channel) -> None:
    channel.answers.append((200, DOC_REFUND))
    result = asyncio.run(adapter_for(channel).query_refund(refund_request()))
    (request,) = channel.seen
    assert request.method == "GET"
    assert str(request.url) == f"{BASE_URL}/v3/refund/domestic/refunds/1217752501201407033233368018"
    assert request.content == b""
    check_signed(request)
    assert result.state is RefundState.SUCCEEDED
    assert result.refunded_at == datetime(2020, 12, 1, 16, 18, 12, tzinfo=BEIJING)


def test_refund_query_of_an_unknown_refund(channel: Channel) -> None:
    channel.answers.append((404, {"code": "RESOURCE_NOT_EXISTS", "message": "退款单不存在"}))
    result = asyncio.run(adapter_for(channel).query_refund(refund_request()))
    assert result.state is RefundState.NOT_FOUND


# -- platform certificates ----------------------------------------------------------------------------


def test_certificate_mode_downloads_the_listing_then_believes_answers_signed_with_it() -> None:
    platform = key("platform")
    serial = "5157F09EFDC096DE15EBE81A47057A7232F1B8E1"
    pem = samples.self_signed_certificate(platform, "Tenpay.com Root CA")
    nonce = "61f9c719728a"
    listing = {
        "data": [
            {
                "serial_no": serial,
                "effective_time": "2018-06-08T10:34:56+08:00",
                "expire_time": "2023-06-08T10:34:56+08:00",
                "encrypt_certificate": {
                    "algorithm": "AEAD_AES_256_GCM",
                    "nonce": nonce,
                    "associated_data": "certificate",
                    "ciphertext": base64.b64encode(
                        AESGCM(APIV3_KEY).encrypt(nonce.encode(), pem.encode(), b"certificate")
                    ).decode(),
                },
            }
        ]
    }
    channel = Channel(platform, serial, answers=[(200, DOC_TRANSACTION), (200, listing)])
    status = asyncio.run(adapter_for(channel, public_key_mode=False).query(ORDER_NO))
    query, download = channel.seen
    assert query.url.path == f"/v3/pay/transactions/out-trade-no/{ORDER_NO}"
    assert download.method == "GET"
    assert str(download.url) == f"{BASE_URL}/v3/certificates"
    assert download.content == b""
    check_signed(download)
    assert status.state is OrderState.SUCCEEDED
