"""The v3 API over real HTTP, at the root and mounted under a prefix: signatures, create, query, close,
platform certificates."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest
from cryptography import x509

from tongbao.channels.wechatpay import protocol
from tongbao.security import samples

from .conftest import PREFIX, Running
from .support import Merchant, new_out_trade_no, response_signature_ok

NATIVE = "/v3/pay/transactions/native"


def test_native_create_answers_a_signed_code_url(merchant: Merchant, http: httpx.Client) -> None:
    response = merchant.create_native(http, new_out_trade_no())
    assert response.status_code == 200, response.text
    assert response.json()["code_url"].startswith("weixin://wxpay/bizpayurl?pr=")
    assert response_signature_ok(response, merchant.platform_key)
    assert response.headers["Wechatpay-Serial"] == merchant.platform["platform_public_key_id"]
    assert merchant.platform["platform_public_key_id"].startswith("PUB_KEY_ID_01")
    assert response.headers["Wechatpay-Signature-Type"] == "WECHATPAY2-SHA256-RSA2048"
    assert response.headers["Request-ID"]


def test_jsapi_app_and_h5_create(merchant: Merchant, http: httpx.Client, wechat: Running) -> None:
    jsapi = merchant.order_body(new_out_trade_no(), payer={"openid": "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"})
    response = merchant.call(http, "POST", "/v3/pay/transactions/jsapi", jsapi)
    assert response.status_code == 200, response.text
    assert response.json()["prepay_id"].startswith("wx")

    response = merchant.call(
        http, "POST", "/v3/pay/transactions/app", merchant.order_body(new_out_trade_no())
    )
    assert response.status_code == 200 and response.json()["prepay_id"].startswith("wx")

    h5 = merchant.order_body(
        new_out_trade_no(), scene_info={"payer_client_ip": "1.2.3.4", "h5_info": {"type": "Wap"}}
    )
    response = merchant.call(http, "POST", "/v3/pay/transactions/h5", h5)
    assert response.status_code == 200, response.text
    h5_url = response.json()["h5_url"]
    assert h5_url.startswith(f"{wechat.base_url}/_control/payer?prepay_id=wx")
    page = http.get(h5_url)
    assert page.status_code == 200 and h5["out_trade_no"] in page.text

    query = merchant.query(http, jsapi["out_trade_no"]).json()
    assert query["trade_type"] == "JSAPI" and query["payer"] == {"openid": jsapi["payer"]["openid"]}
    assert merchant.query(http, h5["out_trade_no"]).json()["trade_type"] == "MWEB"


def test_repeat_is_idempotent_and_a_changed_repeat_is_refused(merchant: Merchant, http: httpx.Client) -> None:
    out_trade_no = new_out_trade_no()
    first = merchant.create_native(http, out_trade_no)
    again = merchant.create_native(http, out_trade_no)
    assert again.status_code == 200 and again.json() == first.json()
    changed = merchant.create_native(http, out_trade_no, total=101)
    assert changed.status_code == 403
    assert changed.json() == {"code": "OUT_TRADE_NO_USED", "message": "商户订单号重复"}
    assert response_signature_ok(changed, merchant.platform_key)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"out_trade_no": "abc"}, "/out_trade_no"),
        ({"out_trade_no": "bad#chars!"}, "/out_trade_no"),
        ({"amount": {"total": 0}}, "/amount/total"),
        ({"amount": {"total": 1.5}}, "/amount/total"),
        ({"amount": {"total": 100, "currency": "USD"}}, "/amount/currency"),
        ({"notify_url": "ftp://merchant.example/n"}, "/notify_url"),
        ({"description": None}, "/description"),
        ({"time_expire": "tomorrow"}, "/time_expire"),
    ],
)
def test_param_errors_name_the_field(
    merchant: Merchant, http: httpx.Client, change: dict[str, Any], field: str
) -> None:
    body = {**merchant.order_body(new_out_trade_no()), **change}
    body = {k: v for k, v in body.items() if v is not None}
    response = merchant.call(http, "POST", NATIVE, body)
    assert response.status_code == 400, response.text
    assert response.json()["code"] == "PARAM_ERROR"
    assert response.json()["detail"]["field"] == field


def test_jsapi_needs_a_payer_and_h5_a_scene(merchant: Merchant, http: httpx.Client) -> None:
    jsapi = merchant.call(http, "POST", "/v3/pay/transactions/jsapi", merchant.order_body(new_out_trade_no()))
    assert jsapi.status_code == 400 and jsapi.json()["detail"]["field"] == "/payer"
    h5 = merchant.order_body(new_out_trade_no(), scene_info={"payer_client_ip": "1.2.3.4"})
    response = merchant.call(http, "POST", "/v3/pay/transactions/h5", h5)
    assert response.status_code == 400 and response.json()["detail"]["field"] == "/scene_info/h5_info"


def test_appid_must_be_the_merchants(merchant: Merchant, http: httpx.Client) -> None:
    body = {**merchant.order_body(new_out_trade_no()), "appid": "wx0000000000000000"}
    response = merchant.call(http, "POST", NATIVE, body)
    assert response.status_code == 400 and response.json()["code"] == "APPID_MCHID_NOT_MATCH"


def test_sign_errors(merchant: Merchant, http: httpx.Client, wechat: Running) -> None:
    body = merchant.order_body(new_out_trade_no())
    attempts = {
        "bad signature": merchant.call(http, "POST", NATIVE, body, key=samples.new_rsa_key()),
        "wrong serial": merchant.call(http, "POST", NATIVE, body, serial_no="0" * 40),
        "stale timestamp": merchant.call(http, "POST", NATIVE, body, timestamp=int(time.time()) - 301),
        "future timestamp": merchant.call(http, "POST", NATIVE, body, timestamp=int(time.time()) + 301),
        # Signing the full URL path including the mount prefix is what the real channel would reject.
        "path with prefix": merchant.call(http, "POST", NATIVE, body, sign_url=PREFIX + NATIVE),
        "no header": http.post(f"{wechat.base_url}{NATIVE}", json=body),
    }
    for reason, response in attempts.items():
        assert response.status_code == 401, reason
        assert response.json() == {"code": "SIGN_ERROR", "message": "签名错误"}, reason
        assert response_signature_ok(response, merchant.platform_key), reason
    assert merchant.query(http, body["out_trade_no"]).status_code == 404


def test_query_signs_the_query_string_exactly_as_sent(merchant: Merchant, http: httpx.Client) -> None:
    out_trade_no = new_out_trade_no()
    merchant.create_native(http, out_trade_no)
    path = f"/v3/pay/transactions/out-trade-no/{out_trade_no}?mchid={merchant.mchid}"
    unsigned_query = merchant.call(http, "GET", path, sign_url=path.split("?")[0])
    assert unsigned_query.status_code == 401


def test_query_by_out_trade_no_and_by_transaction_id(merchant: Merchant, http: httpx.Client) -> None:
    out_trade_no = new_out_trade_no()
    merchant.create_native(http, out_trade_no, total=2345, attach="cart-7")
    unpaid = merchant.query(http, out_trade_no)
    assert unpaid.status_code == 200 and response_signature_ok(unpaid, merchant.platform_key)
    assert unpaid.json()["trade_state"] == "NOTPAY" and "transaction_id" not in unpaid.json()

    paid = http.post(f"{merchant.base_url}/_control/pay", json={"out_trade_no": out_trade_no})
    assert paid.status_code == 200, paid.text
    found = merchant.query(http, out_trade_no).json()
    assert found["trade_state"] == "SUCCESS" and found["trade_state_desc"] == "支付成功"
    assert found["trade_type"] == "NATIVE" and found["attach"] == "cart-7"
    assert found["amount"] == {"total": 2345, "payer_total": 2345, "currency": "CNY", "payer_currency": "CNY"}
    assert len(found["transaction_id"]) == 28 and found["transaction_id"].startswith("4200")
    assert found["success_time"].endswith("+08:00") and found["payer"]["openid"]

    by_id = merchant.call(
        http, "GET", f"/v3/pay/transactions/id/{found['transaction_id']}?mchid={merchant.mchid}"
    )
    assert by_id.status_code == 200 and by_id.json() == found


def test_unknown_orders_and_other_merchants(merchant: Merchant, http: httpx.Client) -> None:
    missing = merchant.query(http, "NO_SUCH_ORDER")
    assert missing.status_code == 404 and missing.json() == {
        "code": "ORDER_NOT_EXIST",
        "message": "订单不存在",
    }
    assert response_signature_ok(missing, merchant.platform_key)
    by_id = merchant.call(
        http, "GET", f"/v3/pay/transactions/id/4200000000000000000000000000?mchid={merchant.mchid}"
    )
    assert by_id.status_code == 404
    other = merchant.call(http, "GET", "/v3/pay/transactions/out-trade-no/ANY_ORDER_1?mchid=1900000000")
    assert other.status_code == 400 and other.json()["code"] == "PARAM_ERROR"
    no_mchid = merchant.call(http, "GET", "/v3/pay/transactions/out-trade-no/ANY_ORDER_1")
    assert no_mchid.status_code == 400 and no_mchid.json()["detail"]["location"] == "query"


def test_close(merchant: Merchant, http: httpx.Client) -> None:
    out_trade_no = new_out_trade_no()
    merchant.create_native(http, out_trade_no)
    path = f"/v3/pay/transactions/out-trade-no/{out_trade_no}/close"
    for _ in range(2):
        closed = merchant.call(http, "POST", path, {"mchid": merchant.mchid})
        assert closed.status_code == 204 and closed.content == b""
        assert response_signature_ok(closed, merchant.platform_key)
    assert merchant.query(http, out_trade_no).json()["trade_state"] == "CLOSED"
    assert merchant.create_native(http, out_trade_no).json()["code"] == "ORDER_CLOSED"

    paid_no = new_out_trade_no()
    merchant.create_native(http, paid_no)
    http.post(f"{merchant.base_url}/_control/pay", json={"out_trade_no": paid_no}).raise_for_status()
    refused = merchant.call(
        http, "POST", f"/v3/pay/transactions/out-trade-no/{paid_no}/close", {"mchid": merchant.mchid}
    )
    assert refused.status_code == 400 and refused.json() == {"code": "ORDERPAID", "message": "订单已支付"}


def test_certificates_decrypt_to_the_platform_certificate(merchant: Merchant, http: httpx.Client) -> None:
    response = merchant.call(http, "GET", "/v3/certificates")
    assert response.status_code == 200 and response_signature_ok(response, merchant.platform_key)
    [entry] = response.json()["data"]
    sealed = entry["encrypt_certificate"]
    assert sealed["algorithm"] == "AEAD_AES_256_GCM" and sealed["associated_data"] == "certificate"
    pem = protocol.decrypt(merchant.apiv3_key.encode(), sealed["nonce"], "certificate", sealed["ciphertext"])
    assert pem.decode() == merchant.platform["platform_certificate_pem"]
    certificate = x509.load_pem_x509_certificate(pem)
    assert entry["serial_no"] == merchant.platform["platform_serial"] == f"{certificate.serial_number:X}"
    assert entry["effective_time"].endswith("+08:00") and entry["expire_time"].endswith("+08:00")


def test_certificate_verification_merchants_see_the_certificate_serial(
    wechat: Running, http: httpx.Client
) -> None:
    merchant = Merchant(wechat.base_url, samples.new_rsa_key()).register(http, verification="certificate")
    response = merchant.create_native(http, new_out_trade_no())
    assert response.status_code == 200
    assert response.headers["Wechatpay-Serial"] == merchant.platform["platform_serial"]
    certificate = x509.load_pem_x509_certificate(merchant.platform["platform_certificate_pem"].encode())
    assert response_signature_ok(response, certificate.public_key())  # type: ignore[arg-type]


def test_unknown_paths_answer_in_wechat_shape(merchant: Merchant, http: httpx.Client) -> None:
    response = merchant.call(http, "GET", "/v3/no/such/api")
    assert response.status_code == 404 and response.json()["code"] == "NOT_FOUND"
    assert response_signature_ok(response, merchant.platform_key)
