"""The bytes the Alipay adapter puts on the wire, and how it reads documented answers.

The adapter posts to an ``httpx.MockTransport`` that records each request and answers with the
documented response example, signed here (``cryptography`` alone) with an "Alipay" key. Each request's
``sign`` is verified here by the rule of "自行实现签名", independently of ``channels/alipay/protocol.py``.

Sources: opendocs.alipay.com API pages "alipay.trade.precreate", "alipay.trade.page.pay",
"alipay.trade.wap.pay", "alipay.trade.app.pay", "alipay.trade.query", "alipay.trade.close",
"alipay.trade.pay", "alipay.trade.cancel", "alipay.trade.refund", "alipay.trade.fastpay.refund.query"
(公共请求参数 and the 响应示例 of each); gateway https://openapi.alipay.com/gateway.do.
"""

from __future__ import annotations

import asyncio
import base64
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from tongbao.channels.alipay.adapter import AlipayAdapter
from tongbao.channels.base import OrderRequest, OrderState, RefundRequest, RefundState
from tongbao.channels.kinds import Method
from tongbao.security import samples

GATEWAY = "https://openapi.alipay.com/gateway.do"
APP_ID = "2014072300007148"
BEIJING = timezone(timedelta(hours=8))
NOW = datetime(2014, 7, 24, 3, 7, 50, tzinfo=BEIJING)
ORDER_NO = "6823789339978248"
TRADE_NO = "2013112011001004330000121536"
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


def checked(params: dict[str, str], method: str) -> dict[str, Any]:
    """The common request parameters as "公共请求参数" lists them, ``sign`` verified over every other
    non-empty parameter sorted by name; returns the decoded biz_content."""
    signed = "&".join(f"{k}={v}" for k, v in sorted(params.items()) if k != "sign" and v != "")
    assert rsa_ok(key("app").public_key(), signed.encode(), params["sign"])
    assert params["app_id"] == APP_ID
    assert params["method"] == method
    assert params["format"] == "JSON"
    assert params["charset"] == "utf-8"
    assert params["sign_type"] == "RSA2"
    assert params["timestamp"] == "2014-07-24 03:07:50"
    assert params["version"] == "1.0"
    biz = json.loads(params["biz_content"])
    assert isinstance(biz, dict)
    return biz


class FixedClock:
    def now(self) -> datetime:
        return NOW


@dataclass
class Gateway:
    """Records posts; answers each with the next queued response node, signed as Alipay signs."""

    answers: list[dict[str, Any]] = field(default_factory=list)
    seen: list[httpx.Request] = field(default_factory=list)

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(request)
        params = self.form(request)
        node_name = params["method"].replace(".", "_") + "_response"
        node = json.dumps(self.answers.pop(0), ensure_ascii=False)
        body = f'{{"{node_name}":{node},"sign":"{rsa_sign(key("alipay"), node.encode())}"}}'
        return httpx.Response(200, content=body.encode(), headers={"Content-Type": "text/html;charset=utf-8"})

    @staticmethod
    def form(request: httpx.Request) -> dict[str, str]:
        assert request.method == "POST"
        assert str(request.url) == GATEWAY
        assert request.headers["Content-Type"].startswith("application/x-www-form-urlencoded")
        pairs = parse_qsl(request.content.decode(), keep_blank_values=True, strict_parsing=True)
        params = dict(pairs)
        assert len(params) == len(pairs)
        return params

    def only(self) -> dict[str, str]:
        (request,) = self.seen
        return self.form(request)


@pytest.fixture(name="gateway")
def gateway_fixture() -> Gateway:
    return Gateway()


def adapter_for(gateway: Gateway) -> AlipayAdapter:
    return AlipayAdapter(
        account_id="chacc_wire",
        base_url=GATEWAY,
        config={"app_id": APP_ID, "alipay_public_key_pem": samples.public_pem(key("alipay"))},
        credentials={"app_private_key_pem": samples.private_pem(key("app"))},
        http=httpx.AsyncClient(transport=httpx.MockTransport(gateway.handle)),
        clock=FixedClock(),
    )


def order(method: Method, **changes: Any) -> OrderRequest:
    values: dict[str, Any] = {
        "order_no": ORDER_NO,
        "method": method,
        "amount": 8888,
        "currency": "CNY",
        "subject": "Iphone6 16G",
        "notify_url": "http://api.test.alipay.net/atinterface/receive_notify.htm",
        "expires_at": datetime(2016, 12, 31, 10, 5, 1, tzinfo=BEIJING),
        **changes,
    }
    return OrderRequest(**values)


def biz_of(product_code: str) -> dict[str, Any]:
    return {
        "out_trade_no": ORDER_NO,
        "total_amount": "88.88",
        "subject": "Iphone6 16G",
        "product_code": product_code,
        "time_expire": "2016-12-31 10:05:01",
    }


# -- orders -------------------------------------------------------------------------------------------


def test_precreate(gateway: Gateway) -> None:
    gateway.answers.append(
        {
            "code": "10000",
            "msg": "Success",
            "out_trade_no": ORDER_NO,
            "qr_code": "https://qr.alipay.com/bavh4wjlxf12tper3a",
        }
    )
    action = asyncio.run(adapter_for(gateway).create(order(Method.ALIPAY_QR)))
    params = gateway.only()
    assert checked(params, "alipay.trade.precreate") == biz_of("FACE_TO_FACE_PAYMENT")
    assert params["notify_url"] == "http://api.test.alipay.net/atinterface/receive_notify.htm"
    assert action.type == "qr_code"
    assert dict(action.data) == {"qr_code": "https://qr.alipay.com/bavh4wjlxf12tper3a"}


@pytest.mark.parametrize(
    ("method", "api", "product_code"),
    [
        (Method.ALIPAY_PAGE, "alipay.trade.page.pay", "FAST_INSTANT_TRADE_PAY"),
        (Method.ALIPAY_WAP, "alipay.trade.wap.pay", "QUICK_WAP_WAY"),
    ],
)
def test_page_and_wap_pay_are_a_signed_gateway_url(
    gateway: Gateway, method: Method, api: str, product_code: str
) -> None:
    action = asyncio.run(
        adapter_for(gateway).create(order(method, return_url="https://m.alipay.com/Gk8NF23"))
    )
    assert gateway.seen == []  # the payer's browser sends it, not us
    assert action.type == "redirect"
    url = urlsplit(str(action.data["url"]))
    assert f"{url.scheme}://{url.netloc}{url.path}" == GATEWAY
    params = dict(parse_qsl(url.query, keep_blank_values=True, strict_parsing=True))
    assert checked(params, api) == biz_of(product_code)
    assert params["return_url"] == "https://m.alipay.com/Gk8NF23"
    assert params["notify_url"] == "http://api.test.alipay.net/atinterface/receive_notify.htm"


def test_app_pay_is_a_signed_order_string(gateway: Gateway) -> None:
    action = asyncio.run(adapter_for(gateway).create(order(Method.ALIPAY_APP)))
    assert gateway.seen == []
    assert action.type == "app"
    params = dict(parse_qsl(str(action.data["order_string"]), keep_blank_values=True, strict_parsing=True))
    assert checked(params, "alipay.trade.app.pay") == biz_of("QUICK_MSECURITY_PAY")
    assert "return_url" not in params


# The 响应示例 of alipay.trade.query, paid.
DOC_QUERY_ANSWER: dict[str, Any] = {
    "code": "10000",
    "msg": "Success",
    "trade_no": TRADE_NO,
    "out_trade_no": ORDER_NO,
    "buyer_logon_id": "159****5620",
    "trade_status": "TRADE_SUCCESS",
    "total_amount": "88.88",
    "buyer_pay_amount": "8.88",
    "point_amount": "10",
    "invoice_amount": "12.11",
    "send_pay_date": "2014-11-27 15:45:57",
    "receipt_amount": "15.25",
    "store_id": "NJ_S_001",
    "terminal_id": "NJ_T_001",
    "fund_bill_list": [{"fund_channel": "ALIPAYACCOUNT", "amount": "10", "real_amount": "11.21"}],
    "store_name": "证大五道口店",
    "buyer_user_id": "2088101117955611",
}


def test_query(gateway: Gateway) -> None:
    gateway.answers.append(DOC_QUERY_ANSWER)
    status = asyncio.run(adapter_for(gateway).query(ORDER_NO))
    assert checked(gateway.only(), "alipay.trade.query") == {"out_trade_no": ORDER_NO}
    assert status.state is OrderState.SUCCEEDED
    # total_amount (the order's), not buyer_pay_amount or receipt_amount.
    assert status.amount == 8888 and status.currency == "CNY"
    assert status.channel_trade_no == TRADE_NO
    assert status.paid_at == datetime(2014, 11, 27, 15, 45, 57, tzinfo=BEIJING)


def test_query_of_an_unknown_trade(gateway: Gateway) -> None:
    gateway.answers.append(
        {
            "code": "40004",
            "msg": "Business Failed",
            "sub_code": "ACQ.TRADE_NOT_EXIST",
            "sub_msg": "交易不存在",
        }
    )
    status = asyncio.run(adapter_for(gateway).query(ORDER_NO))
    assert status.state is OrderState.NOT_FOUND


def test_close(gateway: Gateway) -> None:
    gateway.answers.append(
        {"code": "10000", "msg": "Success", "trade_no": TRADE_NO, "out_trade_no": ORDER_NO}
    )
    asyncio.run(adapter_for(gateway).close(ORDER_NO))
    assert checked(gateway.only(), "alipay.trade.close") == {"out_trade_no": ORDER_NO}


def test_barcode_pay(gateway: Gateway) -> None:
    gateway.answers.append(
        {
            "code": "10000",
            "msg": "Success",
            "trade_no": TRADE_NO,
            "out_trade_no": ORDER_NO,
            "buyer_logon_id": "159****5620",
            "total_amount": "88.88",
            "receipt_amount": "88.88",
            "gmt_payment": "2014-11-27 15:45:57",
        }
    )
    status = asyncio.run(
        adapter_for(gateway).charge(order(Method.ALIPAY_BARCODE, auth_code="28763443825664394"))
    )
    params = gateway.only()
    assert checked(params, "alipay.trade.pay") == {
        **biz_of("FACE_TO_FACE_PAYMENT"),
        "scene": "bar_code",
        "auth_code": "28763443825664394",
    }
    assert status.state is OrderState.SUCCEEDED and status.amount == 8888


def test_barcode_pay_waiting_for_the_payer(gateway: Gateway) -> None:
    # code 10003: "等待用户付款" (the payer confirms on the phone); query until it ends.
    gateway.answers.append(
        {
            "code": "10003",
            "msg": " order success pay inprocess",
            "trade_no": TRADE_NO,
            "out_trade_no": ORDER_NO,
        }
    )
    status = asyncio.run(
        adapter_for(gateway).charge(order(Method.ALIPAY_BARCODE, auth_code="28763443825664394"))
    )
    assert status.state is OrderState.PAYING and status.channel_trade_no == TRADE_NO


def test_cancel(gateway: Gateway) -> None:
    gateway.answers.append(
        {
            "code": "10000",
            "msg": "Success",
            "trade_no": TRADE_NO,
            "out_trade_no": ORDER_NO,
            "retry_flag": "N",
            "action": "close",
        }
    )
    asyncio.run(adapter_for(gateway).cancel(ORDER_NO))
    assert checked(gateway.only(), "alipay.trade.cancel") == {"out_trade_no": ORDER_NO}


# -- refunds ------------------------------------------------------------------------------------------


def refund_request(**changes: Any) -> RefundRequest:
    values: dict[str, Any] = {
        "refund_no": "HZ01RF001",
        "order_no": ORDER_NO,
        "channel_trade_no": TRADE_NO,
        "amount": 20058,
        "order_amount": 88888,
        "currency": "CNY",
        "notify_url": "https://example.com/refund-notify",
        "reason": "正常退款",
        **changes,
    }
    return RefundRequest(**values)


def test_refund(gateway: Gateway) -> None:
    gateway.answers.append(
        {
            "code": "10000",
            "msg": "Success",
            "trade_no": TRADE_NO,
            "out_trade_no": ORDER_NO,
            "buyer_logon_id": "159****5620",
            "fund_change": "Y",
            "refund_fee": "200.58",
            "gmt_refund_pay": "2014-11-27 15:45:57",
        }
    )
    result = asyncio.run(adapter_for(gateway).refund(refund_request()))
    assert checked(gateway.only(), "alipay.trade.refund") == {
        "out_trade_no": ORDER_NO,
        "refund_amount": "200.58",
        "out_request_no": "HZ01RF001",
        "refund_reason": "正常退款",
    }
    assert result.state is RefundState.SUCCEEDED and result.amount == 20058
    assert result.refunded_at == datetime(2014, 11, 27, 15, 45, 57, tzinfo=BEIJING)


def test_refund_query(gateway: Gateway) -> None:
    gateway.answers.append(
        {
            "code": "10000",
            "msg": "Success",
            "trade_no": TRADE_NO,
            "out_trade_no": ORDER_NO,
            "out_request_no": "HZ01RF001",
            "total_amount": "888.88",
            "refund_amount": "200.58",
            "refund_status": "REFUND_SUCCESS",
            "gmt_refund_pay": "2014-11-27 15:45:57",
        }
    )
    result = asyncio.run(adapter_for(gateway).query_refund(refund_request()))
    assert checked(gateway.only(), "alipay.trade.fastpay.refund.query") == {
        "out_trade_no": ORDER_NO,
        "out_request_no": "HZ01RF001",
        "query_options": ["gmt_refund_pay"],
    }
    assert result.state is RefundState.SUCCEEDED and result.amount == 20058
    assert result.refunded_at == datetime(2014, 11, 27, 15, 45, 57, tzinfo=BEIJING)


def test_a_refund_query_answer_without_a_refund_is_not_found(gateway: Gateway) -> None:
    # refund_status: "REFUND_SUCCESS 退款处理成功；未返回该字段表示退款请求未收到或者退款失败". An
    # answer that names no refund at all (no out_request_no, no refund_amount) means Alipay has none.
    gateway.answers.append(
        {"code": "10000", "msg": "Success", "trade_no": TRADE_NO, "out_trade_no": ORDER_NO}
    )
    result = asyncio.run(adapter_for(gateway).query_refund(refund_request()))
    assert result.state is RefundState.NOT_FOUND


def test_answers_are_read_in_utc_aware_times(gateway: Gateway) -> None:
    gateway.answers.append(DOC_QUERY_ANSWER)
    status = asyncio.run(adapter_for(gateway).query(ORDER_NO))
    assert status.paid_at is not None
    assert status.paid_at.astimezone(UTC) == datetime(2014, 11, 27, 7, 45, 57, tzinfo=UTC)
