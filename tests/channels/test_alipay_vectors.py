"""Alipay OpenAPI wire rules checked against Alipay's own published examples.

Expected values are the documented examples themselves, or are computed here with ``cryptography``
alone, so a misreading shared by the adapter and the simulator (both use
``channels/alipay/protocol.py``) shows up here. Alipay publishes no key with a known signature, so
signatures are checked by round trip with a key made here, and the string to sign byte for byte.

Sources (Alipay open platform documentation, opendocs.alipay.com):

* "自行实现签名" (common/02kf5q): 筛选并排序 — every request parameter except ``sign`` and empty
  values, sorted by name in ASCII order — then 拼接 ``参数=参数值`` joined with ``&``; the worked
  example is an ``alipay.mobile.public.menu.add`` request (its string keeps ``sign_type``).
* "App 支付服务端" order string example (``alipay.trade.app.pay``, app_id 2015052600090779).
* "异步通知说明" / "自行实现验签" (common/02mse7): for an asynchronous notification, 除去 ``sign``
  和 ``sign_type`` 两个参数外, every parameter received is signed, sorted the same way.
* "alipay.trade.precreate", "alipay.trade.query", "alipay.trade.refund",
  "alipay.trade.fastpay.refund.query": ``total_amount`` etc. are yuan with two decimals ("88.88");
  times are "yyyy-MM-dd HH:mm:ss" (Beijing time).
* "同步响应验签": the signature covers the ``<method>_response`` node's text as it stands in the body.
"""

from __future__ import annotations

import asyncio
import base64
import json
from datetime import UTC, datetime, timedelta, timezone
from urllib.parse import urlencode

import httpx
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from tongbao.channels.alipay import protocol
from tongbao.channels.alipay.adapter import AlipayAdapter
from tongbao.channels.base import NotificationRejected, OrderState
from tongbao.money import fen_to_yuan, yuan_to_fen
from tongbao.security import samples

BEIJING = timezone(timedelta(hours=8))
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


# -- request signing ("自行实现签名") -----------------------------------------------------------------

MENU_BIZ = (
    '{"button":[{"actionParam":"ZFB_HFCZ","actionType":"out","name":"话费充值"},'
    '{"name":"查询","subButton":[{"actionParam":"ZFB_YECX","actionType":"out","name":"余额查询"},'
    '{"actionParam":"ZFB_LLCX","actionType":"out","name":"流量查询"},'
    '{"actionParam":"ZFB_HFCX","actionType":"out","name":"话费查询"}]},'
    '{"actionParam":"http://m.alipay.com","actionType":"link","name":"最新优惠"}]}'
)
# The documented request, in the order the page lists it (not sorted).
MENU_REQUEST = {
    "app_id": "2014072300007148",
    "method": "alipay.mobile.public.menu.add",
    "charset": "GBK",
    "sign_type": "RSA2",
    "timestamp": "2014-07-24 03:07:50",
    "biz_content": MENU_BIZ,
    "version": "1.0",
}
MENU_STRING_TO_SIGN = (
    "app_id=2014072300007148&biz_content="
    + MENU_BIZ
    + "&charset=GBK&method=alipay.mobile.public.menu.add&sign_type=RSA2"
    + "&timestamp=2014-07-24 03:07:50&version=1.0"
)


def test_the_request_string_to_sign_is_the_documented_one() -> None:
    assert protocol.content_to_sign(MENU_REQUEST) == MENU_STRING_TO_SIGN.encode()


def test_sign_and_empty_values_are_left_out_of_a_request_but_sign_type_stays() -> None:
    params = {**MENU_REQUEST, "sign": "c2lnbg==", "notify_url": "", "app_auth_token": ""}
    assert protocol.content_to_sign(params) == MENU_STRING_TO_SIGN.encode()


def test_signed_adds_an_rsa2_signature_over_the_documented_string() -> None:
    out = protocol.signed(key("app"), MENU_REQUEST)
    assert {k: v for k, v in out.items() if k != "sign"} == MENU_REQUEST
    # RSA2 is SHA256WithRSA; PKCS#1 v1.5 is deterministic, so the value itself is known.
    assert out["sign"] == rsa_sign(key("app"), MENU_STRING_TO_SIGN.encode())
    assert rsa_ok(key("app").public_key(), MENU_STRING_TO_SIGN.encode(), out["sign"])


APP_PAY_BIZ = (
    '{"timeout_express":"30m","product_code":"QUICK_MSECURITY_PAY","total_amount":"0.01",'
    '"subject":"1","body":"我是测试数据","out_trade_no":"IQJZSRC1YMQB5HU"}'
)


def test_the_app_pay_order_string_example_sorts_as_documented() -> None:
    params = {
        "app_id": "2015052600090779",
        "biz_content": APP_PAY_BIZ,
        "charset": "utf-8",
        "format": "json",
        "method": "alipay.trade.app.pay",
        "notify_url": "http://domain.merchant.com/payment_notify",
        "sign_type": "RSA2",
        "timestamp": "2016-08-25 20:26:31",
        "version": "1.0",
    }
    # The unsigned string of the "App 支付服务端" example, byte for byte.
    assert (
        protocol.content_to_sign(dict(reversed(list(params.items()))))
        == (
            "app_id=2015052600090779&biz_content="
            + APP_PAY_BIZ
            + "&charset=utf-8&format=json&method=alipay.trade.app.pay"
            "&notify_url=http://domain.merchant.com/payment_notify&sign_type=RSA2"
            "&timestamp=2016-08-25 20:26:31&version=1.0"
        ).encode()
    )
    # The order string itself carries every value URL-encoded (the signed string does not).
    order_string = protocol.query_string({**params, "sign": "a+b/c="})
    assert "timestamp=2016-08-25+20%3A26%3A31" in order_string
    assert "sign=a%2Bb%2Fc%3D" in order_string


# -- asynchronous notifications ("异步通知") ---------------------------------------------------------

# The parameters "异步通知参数说明" lists for a trade notification, with the documented example values.
DOC_NOTIFY = {
    "notify_time": "2015-11-27 15:45:59",
    "notify_type": "trade_status_sync",
    "notify_id": "ac05099524730693a8b330c5ecf72da9786",
    "app_id": "2014072300007148",
    "auth_app_id": "2014072300007148",
    "charset": "utf-8",
    "version": "1.0",
    "sign_type": "RSA2",
    "trade_no": "2013112011001004330000121536",
    "out_trade_no": "6823789339978248",
    "buyer_id": "2088102122524333",
    "buyer_logon_id": "159****5620",
    "seller_id": "2088101106499364",
    "seller_email": "zhuzhanghu@alitest.com",
    "trade_status": "TRADE_SUCCESS",
    "total_amount": "88.88",
    "receipt_amount": "88.88",
    "invoice_amount": "88.88",
    "buyer_pay_amount": "88.88",
    "point_amount": "0.00",
    "subject": "当面付交易",
    "body": "当面付交易内容",
    "gmt_create": "2015-11-27 15:45:58",
    "gmt_payment": "2015-11-27 15:45:59",
    "fund_bill_list": '[{"amount":"88.88","fundChannel":"ALIPAYACCOUNT"}]',
}


def notify_string(params: dict[str, str]) -> bytes:
    """The documented rule, written here: drop sign and sign_type, sort, join k=v with &."""
    kept = sorted((k, v) for k, v in params.items() if k not in ("sign", "sign_type") and v != "")
    return "&".join(f"{k}={v}" for k, v in kept).encode()


def test_the_notification_string_leaves_out_sign_and_sign_type() -> None:
    params = {**DOC_NOTIFY, "sign": "c2lnbg=="}
    expected = notify_string(params)
    assert b"sign_type=" not in expected and b"&sign=" not in expected
    assert expected.startswith(b"app_id=2014072300007148&auth_app_id=2014072300007148&body=")
    signature = rsa_sign(key("alipay"), expected)
    assert protocol.verify_params(
        key("alipay").public_key(), {**DOC_NOTIFY, "sign": signature}, notification=True
    )
    # A signature that covered sign_type (the request rule) is not a notification's.
    with_type = rsa_sign(key("alipay"), protocol.content_to_sign(DOC_NOTIFY))
    assert not protocol.verify_params(
        key("alipay").public_key(), {**DOC_NOTIFY, "sign": with_type}, notification=True
    )


class FixedClock:
    def now(self) -> datetime:
        return datetime(2015, 11, 27, 7, 45, 59, tzinfo=UTC)


def no_calls() -> httpx.AsyncClient:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise AssertionError(f"unexpected call to {request.url}")

    return httpx.AsyncClient(transport=httpx.MockTransport(refuse))


def adapter() -> AlipayAdapter:
    return AlipayAdapter(
        account_id="chacc_vectors",
        base_url="https://openapi.alipay.com/gateway.do",
        config={"app_id": "2014072300007148", "alipay_public_key_pem": samples.public_pem(key("alipay"))},
        credentials={"app_private_key_pem": samples.private_pem(key("app"))},
        http=no_calls(),
        clock=FixedClock(),
    )


def notification_body(params: dict[str, str]) -> bytes:
    signed = {**params, "sign": rsa_sign(key("alipay"), notify_string(params))}
    return urlencode(signed).encode()


def test_the_documented_notification_is_read_as_the_payment() -> None:
    status = asyncio.run(adapter().parse_notification({}, notification_body(DOC_NOTIFY)))
    assert status.state is OrderState.SUCCEEDED
    assert status.order_no == "6823789339978248"
    assert status.channel_trade_no == "2013112011001004330000121536"
    assert status.amount == 8888 and status.currency == "CNY"
    assert status.paid_at == datetime(2015, 11, 27, 15, 45, 59, tzinfo=BEIJING)


def test_a_notification_with_one_value_changed_is_rejected() -> None:
    body = notification_body(DOC_NOTIFY).replace(b"total_amount=88.88", b"total_amount=99.99")
    with pytest.raises(NotificationRejected):
        asyncio.run(adapter().parse_notification({}, body))


@pytest.mark.parametrize(
    ("trade_status", "expected"),
    [
        # "交易状态说明" of the notification and of alipay.trade.query.
        ("WAIT_BUYER_PAY", OrderState.NOT_PAID),
        ("TRADE_CLOSED", OrderState.CLOSED),
        ("TRADE_SUCCESS", OrderState.SUCCEEDED),
        ("TRADE_FINISHED", OrderState.SUCCEEDED),
    ],
)
def test_every_documented_trade_status_is_understood(trade_status: str, expected: OrderState) -> None:
    body = notification_body({**DOC_NOTIFY, "trade_status": trade_status})
    assert asyncio.run(adapter().parse_notification({}, body)).state is expected


def test_the_notification_is_answered_with_the_seven_letters_success() -> None:
    # "程序执行完后必须打印输出 success（不包含引号）"
    assert adapter().reply(True).body == b"success"
    assert adapter().reply(False).body != b"success"


# -- synchronous answers ("同步响应验签") ------------------------------------------------------------


def test_the_answer_signature_covers_the_response_node_text_as_written() -> None:
    # The alipay.trade.query example, written with spaces the way a gateway may write it: the
    # signature covers those exact characters, not a re-serialisation.
    node = (
        '{"code": "10000", "msg": "Success", "trade_no": "2013112011001004330000121536",'
        ' "out_trade_no": "6823789339978248", "trade_status": "TRADE_SUCCESS", "total_amount": "88.88"}'
    )
    body = f'{{"alipay_trade_query_response":{node},"sign":"{rsa_sign(key("alipay"), node.encode())}"}}'
    spans = protocol.top_level_spans(body)
    assert body[slice(*spans["alipay_trade_query_response"])] == node
    assert protocol.response_node("alipay.trade.query") == "alipay_trade_query_response"
    assert (
        protocol.response_node("alipay.trade.fastpay.refund.query")
        == "alipay_trade_fastpay_refund_query_response"
    )


# -- amounts and times --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fen", "yuan"), [(8888, "88.88"), (1, "0.01"), (10, "0.10"), (10020, "100.20"), (0, "0.00")]
)
def test_amounts_are_yuan_with_two_decimals(fen: int, yuan: str) -> None:
    # "total_amount 订单总金额，单位为元，精确到小数点后两位，取值范围[0.01,100000000]"; example 88.88.
    assert fen_to_yuan(fen) == yuan
    assert yuan_to_fen(yuan) == fen


@pytest.mark.parametrize("text", ["88.8", "88", "88.888", "-1.00", "1e2", " 88.88"])
def test_amounts_not_written_as_documented_are_refused(text: str) -> None:
    with pytest.raises(ValueError):
        yuan_to_fen(text)


def test_times_are_beijing_time_yyyy_mm_dd_hh_mm_ss() -> None:
    # "timestamp 发送请求的时间，格式'yyyy-MM-dd HH:mm:ss'", example 2014-07-24 03:07:50.
    assert protocol.format_time(datetime(2014, 7, 23, 19, 7, 50, tzinfo=UTC)) == "2014-07-24 03:07:50"
    assert protocol.parse_time("2014-07-24 03:07:50") == datetime(2014, 7, 24, 3, 7, 50, tzinfo=BEIJING)
    with pytest.raises(ValueError):
        protocol.parse_time("2014-07-24T03:07:50")


def test_biz_content_is_json_with_chinese_as_written() -> None:
    assert json.loads(protocol.biz_json({"subject": "话费充值", "total_amount": "88.88"})) == {
        "subject": "话费充值",
        "total_amount": "88.88",
    }
    assert "话费充值" in protocol.biz_json({"subject": "话费充值"})
