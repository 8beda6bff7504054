"""UnionPay online gateway (ACP 5.1.0) wire rules checked against what UnionPay itself published.

The centrepiece is a back notify the UnionPay test gateway sent and UnionPay's own PHP SDK demo
(``upacp_demo_b2c``, ``demo/api_01_gateway/BackReceive.php`` of the 5.1.0 demo package from
open.unionpay.com) keeps as a sample: merId 700000000000001, signed by the gateway, with the gateway's
signing certificate in ``signPubKeyCert``. Its signature is a known answer: if our reading of the
5.1.0 signature rule were wrong, it would not verify. Other expected values are computed here with
``hashlib`` and ``cryptography`` alone, never with ``channels/unionpay/protocol.py`` on both sides.

Sources: open.unionpay.com "在线网关支付" API pages (消费 frontTransReq.do, 交易状态查询
queryTrans.do, 退货 backTransReq.do, 后台通知) and "签名机制" — 对报文中出现签名域（signature）
之外的所有数据元采用key=value的形式按照名称排序，然后以&作为连接符拼接成待签名串；对待签名串使用
SHA-256算法做摘要，再使用商户签名私钥对摘要做签名（SHA-256），Base64 编码。UnionPay's Java SDK
(``SDKUtil.validate`` / ``coverMap2String`` / ``parseQString``) for how 5.1.0 answers are read:
the verifying key comes from ``signPubKeyCert``, every field but ``signature`` is signed (empty ones
included), and values in ``{…}`` or ``[…]`` may hold ``&``.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
from datetime import UTC, datetime, timedelta, timezone
from urllib.parse import quote, urlencode

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from tongbao.channels.base import OrderState
from tongbao.channels.unionpay import protocol
from tongbao.channels.unionpay.adapter import UnionPayAdapter
from tongbao.ids import new_id
from tongbao.money import fen_to_string, string_to_fen
from tongbao.security import samples

BEIJING = timezone(timedelta(hours=8))

# The back notify of BackReceive.php, exactly as posted (form-encoded). The sample in the demo has a
# stray "3" before its first field name; it is left out here (with it the signature does not verify,
# as the name is part of the signed string).
GATEWAY_NOTIFY = (
    "accNo=6221558812340000&accessType=0&bizType=000201&currencyCode=156&encoding=utf-8&merId=7000000"
    "00000001&orderId=201807251814000000175473&queryId=951807261002324791038&respCode=00&respMsg=%E6%"
    "88%90%E5%8A%9F%5B0000000%5D&settleAmt=136&settleCurrencyCode=156&settleDate=0726&signMethod=01&s"
    "ignPubKeyCert=-----BEGIN+CERTIFICATE-----%0D%0AMIIEQzCCAyugAwIBAgIFEBJJZVgwDQYJKoZIhvcNAQEFBQAwW"
    "DELMAkGA1UEBhMC%0D%0AQ04xMDAuBgNVBAoTJ0NoaW5hIEZpbmFuY2lhbCBDZXJ0aWZpY2F0aW9uIEF1dGhv%0D%0Acml0e"
    "TEXMBUGA1UEAxMOQ0ZDQSBURVNUIE9DQTEwHhcNMTcxMTAxMDcyNDA4WhcN%0D%0AMjAxMTAxMDcyNDA4WjB3MQswCQYDVQQ"
    "GEwJjbjESMBAGA1UEChMJQ0ZDQSBPQ0Ex%0D%0AMQ4wDAYDVQQLEwVDVVBSQTEUMBIGA1UECxMLRW50ZXJwcmlzZXMxLjAsB"
    "gNVBAMU%0D%0AJTA0MUBaMjAxNy0xMS0xQDAwMDQwMDAwOlNJR05AMDAwMDAwMDEwggEiMA0GCSqG%0D%0ASIb3DQEBAQUAA"
    "4IBDwAwggEKAoIBAQDDIWO6AESrg%2B34HgbU9mSpgef0sl6avr1d%0D%0AbD%2FIjjZYM63SoQi3CZHZUyoyzBKodRzowJr"
    "wXmd%2BhCmdcIfavdvfwi6x%2BptJNp9d%0D%0AEtpfEAnJk%2B4quriQFj1dNiv6uP8ARgn07UMhgdYB7D8aA1j77Yk1ROx"
    "7%2BLFeo7rZ%0D%0ADdde2U1opPxjIqOPqiPno78JMXpFn7LiGPXu75bwY2rYIGEEImnypgiYuW1vo9UO%0D%0AG47NMWTns"
    "Idy68FquPSw5FKp5foL825GNX3oJSZui8d2UDkMLBasf06Jz0JKz5AV%0D%0AblaI%2Bs24%2FiCfo8r%2B6WaCs8e6BDkai"
    "jJkR%2FbvRCQeQpbX3V8WoTLVAgMBAAGjgfQw%0D%0AgfEwHwYDVR0jBBgwFoAUz3CdYeudfC6498sCQPcJnf4zdIAwSAYDV"
    "R0gBEEwPzA9%0D%0ABghggRyG7yoBATAxMC8GCCsGAQUFBwIBFiNodHRwOi8vd3d3LmNmY2EuY29tLmNu%0D%0AL3VzL3VzL"
    "TE0Lmh0bTA5BgNVHR8EMjAwMC6gLKAqhihodHRwOi8vdWNybC5jZmNh%0D%0ALmNvbS5jbi9SU0EvY3JsMjQ4NzIuY3JsMAs"
    "GA1UdDwQEAwID6DAdBgNVHQ4EFgQU%0D%0AmQQLyuqYjES7qKO%2BzOkzEbvdFwgwHQYDVR0lBBYwFAYIKwYBBQUHAwIGCCs"
    "GAQUF%0D%0ABwMEMA0GCSqGSIb3DQEBBQUAA4IBAQAujhBuOcuxA%2BVzoUH84uoFt5aaBM3vGlpW%0D%0AKVMz6BUsLbIpp"
    "1ho5h%2BLaMnxMs6jdXXDh%2Fdu8X5SKMaIddiLw7ujZy1LibKy2jYi%0D%0AYYfs3tbZ0ffCKQtv78vCgC%2BIxUUurALY4"
    "w58fRLLdu8u8p9jyRFHsQEwSq%2BW5%2BbP%0D%0AMTh2w7cDd9h%2B6KoCN6AMI1Ly7MxRIhCbNBL9bzaxF9B5GK86ARY7i"
    "xkuDCEl4XCF%0D%0AJGxeoye9R46NqZ6AA%2Fk97mJun%2F%2FgmUjStmb9PUXA59fR5suAB5o%2F5lBySZ8UXkrI%0D%0Ap"
    "p%2FiLT8vIl1hNgLh0Ghs7DBSx99I%2BS3VuUzjHNxL6fGRhlix7Rb8%0D%0A-----END+CERTIFICATE-----&traceNo=4"
    "79103&traceTime=0726100232&txnAmt=136&txnSubType=01&txnTime=20180726100232&txnType=01&version=5."
    "1.0&signature=Q%2FusKVYN70HrAun5WFUvYpDeE3NtRb0gC3lL38qXrIMIGbutpECmjI%2BuB5X9GQbkPcJreRVz%2Bb9Z"
    "ErH2L3alPsVUitgDY3gZLnLRqEmiIreHAG4Th%2FeOml626aNPiAJtjjCMbmmMzilLUrakcpK0zVREjaB%2BsMF2XYVbIAeg"
    "zHgy1CQgjyEImarx92zchzesmpA%2F3JA%2BK0h937B%2Fx1gFvmL0POcO4RpVI%2Fkb%2FxU5TjM2fQlZkFKX40dQrQB6EP"
    "jNxnqwZ3eVm4p2Q8L1llZyiat9wq91CU9Ku7X5dIQDbE5JleWzNlC0ikkRVoxWnqkIFlGeP2%2BITk9%2BHEtI%2B0uHuA%3"
    "D%3D"
)


def gateway_notify() -> dict[str, str]:
    return protocol.parse_form(GATEWAY_NOTIFY.encode())


def gateway_certificate() -> x509.Certificate:
    return x509.load_pem_x509_certificate(gateway_notify()["signPubKeyCert"].encode())


def documented_string(fields: dict[str, str]) -> str:
    """ "签名机制", written here: every field but signature, sorted by name, k=v joined with &."""
    return "&".join(f"{k}={fields[k]}" for k in sorted(fields) if k != "signature")


# -- the gateway's own signature --------------------------------------------------------------------


def test_the_gateway_notify_carries_the_documented_5_1_0_fields() -> None:
    notify = gateway_notify()
    assert {
        "version",
        "encoding",
        "signMethod",
        "txnType",
        "txnSubType",
        "bizType",
        "accessType",
        "merId",
        "orderId",
        "txnTime",
        "txnAmt",
        "currencyCode",
        "queryId",
        "traceNo",
        "traceTime",
        "settleAmt",
        "settleCurrencyCode",
        "settleDate",
        "respCode",
        "respMsg",
        "signPubKeyCert",
        "signature",
    } <= set(notify)
    assert (notify["version"], notify["signMethod"], notify["txnType"], notify["txnSubType"]) == (
        "5.1.0",
        "01",
        "01",
        "01",
    )
    assert notify["respMsg"] == "成功[0000000]"
    # 5.1.0 names no certId: the gateway sends its signing certificate itself.
    assert "certId" not in notify


def test_the_gateway_signature_verifies_by_our_reading_of_the_rule() -> None:
    notify = gateway_notify()
    key = gateway_certificate().public_key()
    assert isinstance(key, rsa.RSAPublicKey)
    assert protocol.signing_string(notify) == documented_string(notify)
    assert protocol.digest(notify) == hashlib.sha256(documented_string(notify).encode()).hexdigest().encode()
    assert protocol.verify(key, notify)
    # Independently: SHA256withRSA over the lowercase hex SHA-256 of the string, not over the string.
    signature = base64.b64decode(notify["signature"])
    digest_text = hashlib.sha256(documented_string(notify).encode()).hexdigest().encode()
    key.verify(signature, digest_text, padding.PKCS1v15(), hashes.SHA256())
    with pytest.raises(Exception):  # noqa: B017  (cryptography's InvalidSignature)
        key.verify(signature, documented_string(notify).encode(), padding.PKCS1v15(), hashes.SHA256())


def test_one_changed_value_breaks_the_gateway_signature() -> None:
    notify = gateway_notify()
    key = gateway_certificate().public_key()
    assert isinstance(key, rsa.RSAPublicKey)
    assert not protocol.verify(key, {**notify, "txnAmt": "137"})
    assert not protocol.verify(key, {**notify, "signature": notify["signature"][:-4] + "AAA="})


def test_cert_id_is_the_certificate_serial_in_decimal() -> None:
    # certId "填写签名私钥证书的Serial Number" — the SDK writes it with BigInteger.toString().
    certificate = gateway_certificate()
    assert protocol.cert_id(certificate) == "69026276696" == str(0x1012496558)


# -- amounts and times of the notify ----------------------------------------------------------------


def test_txn_amt_is_fen_written_as_digits() -> None:
    notify = gateway_notify()
    # txnAmt "交易金额，单位为分，不能带小数点": 136 is 1.36 yuan.
    assert string_to_fen(notify["txnAmt"]) == 136
    assert fen_to_string(136) == "136"
    for text in ("1.36", "0136", "-1", " 136", ""):
        with pytest.raises(ValueError):
            string_to_fen(text)


def test_txn_time_and_trace_time_are_beijing_time() -> None:
    notify = gateway_notify()
    # txnTime YYYYMMDDhhmmss; traceTime MMDDhhmmss (the year is the order's).
    assert protocol.parse_time(notify["txnTime"]) == datetime(2018, 7, 26, 10, 2, 32, tzinfo=BEIJING)
    assert protocol.trace_moment(notify["traceTime"], notify["txnTime"]) == datetime(
        2018, 7, 26, 10, 2, 32, tzinfo=BEIJING
    )
    assert protocol.format_time(datetime(2018, 7, 26, 2, 2, 32, tzinfo=UTC)) == "20180726100232"
    with pytest.raises(ValueError):
        protocol.parse_time("2018-07-26 10:02:32")


# -- how 5.1.0 messages are read ----------------------------------------------------------------------


def test_an_empty_field_the_gateway_sent_is_part_of_the_signed_string() -> None:
    # "签名域（signature）之外的所有数据元": a field present with an empty value is signed as "k=".
    # UnionPay's SDK (coverMap2String) keeps it when verifying; only requests drop blanks (filterBlank)
    # before they are signed, so they never carry one.
    key = samples.new_rsa_key()
    message = {"merId": "700000000000001", "reqReserved": "", "respCode": "00"}
    text = "merId=700000000000001&reqReserved=&respCode=00"
    assert protocol.signing_string(message) == text
    digest = hashlib.sha256(text.encode()).hexdigest().encode()
    signature = base64.b64encode(key.sign(digest, padding.PKCS1v15(), hashes.SHA256())).decode()
    assert protocol.verify(key.public_key(), {**message, "signature": signature})


def test_a_synchronous_answer_value_in_braces_may_hold_ampersands() -> None:
    # parseQString: "&" inside {...} or [...] does not end a value (reqReserved, reserved,
    # customerInfo …); an answer wrapped in {} as a whole is unwrapped first.
    answer = b"merId=700000000000001&reqReserved={a=1&b=2}&reserved=[x&y]&respCode=00"
    assert protocol.parse_answer(answer) == {
        "merId": "700000000000001",
        "reqReserved": "{a=1&b=2}",
        "reserved": "[x&y]",
        "respCode": "00",
    }
    assert protocol.parse_answer(b"{respCode=00&respMsg=ok}") == {"respCode": "00", "respMsg": "ok"}


def test_a_signature_keeps_its_plus_and_slash_in_a_synchronous_answer() -> None:
    # The gateway does not percent-encode its answer: base64 "+", "/" and "=" stay as they are.
    answer = protocol.parse_answer(b"respCode=00&signature=ab+c/d==")
    assert answer["signature"] == "ab+c/d=="


class FixedClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


def no_calls() -> httpx.AsyncClient:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise AssertionError(f"unexpected call to {request.url}")

    return httpx.AsyncClient(transport=httpx.MockTransport(refuse))


@pytest.mark.xfail(
    strict=True,
    reason="ACP 5.1.0 messages carry signPubKeyCert and no certId; the adapter requires certId "
    "(channels/unionpay/adapter.py _believe) and never reads signPubKeyCert",
)
def test_a_5_1_0_notify_naming_its_key_by_sign_pub_key_cert_is_believed() -> None:
    """A back notify shaped like the gateway's (signPubKeyCert, no certId) for a Tongbao order,
    signed with the key of the UnionPay certificate the account is configured with."""
    unionpay_key = samples.new_rsa_key()
    unionpay_pem = samples.self_signed_certificate(unionpay_key, "China UnionPay test signing")
    merchant_key = samples.new_rsa_key()
    adapter = UnionPayAdapter(
        account_id="chacc_vectors",
        base_url="https://gateway.test.95516.com",
        config={"mer_id": "777290058110048", "unionpay_certificate_pem": unionpay_pem},
        credentials={
            "signing_private_key_pem": samples.private_pem(merchant_key),
            "signing_certificate_pem": samples.self_signed_certificate(merchant_key, "merchant"),
        },
        http=no_calls(),
        clock=FixedClock(),
    )
    order_no = new_id("attempt")
    notify = {
        **{k: v for k, v in gateway_notify().items() if k not in ("signature", "accNo")},
        "merId": "777290058110048",
        "orderId": protocol.order_id(order_no),
        "txnTime": protocol.txn_time(order_no),
        "traceTime": protocol.txn_time(order_no)[4:],
        "signPubKeyCert": unionpay_pem,
    }
    digest = hashlib.sha256(documented_string(notify).encode()).hexdigest().encode()
    notify["signature"] = base64.b64encode(
        unionpay_key.sign(digest, padding.PKCS1v15(), hashes.SHA256())
    ).decode()
    body = urlencode(notify, quote_via=quote).encode()
    status = asyncio.run(adapter.parse_notification({}, body))
    assert status.state is OrderState.SUCCEEDED and status.amount == 136
