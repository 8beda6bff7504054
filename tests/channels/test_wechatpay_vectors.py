"""WeChat Pay API v3 wire rules checked against WeChat Pay's own published examples.

Nothing here is built with ``channels/wechatpay/protocol.py`` on both sides: each expected value is
either the documented example itself or is computed in the test with ``cryptography`` alone, so a
misreading of the documentation shared by the adapter and the simulator shows up here.

Sources (WeChat Pay merchant documentation, pay.weixin.qq.com):

* "签名生成" (APIv3 interface rules, signature generation),
  https://pay.weixin.qq.com/docs/merchant/development/interface-rules/signature-generation.html
  (also https://wechatpay-api.gitbook.io/wechatpay-api-v3/qian-ming-zhi-nan-1/qian-ming-sheng-cheng)
* "签名验证" (response and callback verification: three lines, ``\\n`` after each, 204 -> empty body)
* "证书和回调报文解密": AEAD_AES_256_GCM, 32-byte key, 12-byte nonce, base64(ciphertext || tag)
* "JSAPI调起支付" https://pay.weixin.qq.com/wiki/doc/apiv3/apis/chapter7_2_9.shtml (paySign)
* "APP调起支付" https://pay.weixin.qq.com/wiki/doc/apiv3/apis/chapter4_2_4.shtml (sign)
* "支付成功回调通知" https://pay.weixin.qq.com/docs/merchant/apis/h5-payment/payment-notice.html
* "退款结果通知" https://pay.weixin.qq.com/wiki/doc/apiv3/apis/chapter4_4_11.shtml
* The official Go SDK's own test vectors (github.com/wechatpay-apiv3/wechatpay-go):
  ``core/auth/signers/sha256withrsa_signer_test.go`` (a known key and its signature over "source")
  and ``utils/aes_test.go`` (a known AES-GCM ciphertext).
"""

from __future__ import annotations

import asyncio
import base64
import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.serialization import load_pem_private_key

from tongbao.channels.base import NotificationRejected, OrderState, RefundState
from tongbao.channels.wechatpay import protocol, refunds, transactions
from tongbao.channels.wechatpay.adapter import WeChatPayAdapter
from tongbao.channels.wechatpay.platform_keys import CertificateCache, certificates_from_listing
from tongbao.security import samples

# -- known keys --------------------------------------------------------------------------------------

# The private key of wechatpay-go's signer test (``testPrivateKeyStr``; the SDK disguises the PEM
# label as "TESTING KEY"). RSASSA-PKCS1-v1_5 is deterministic, so its signature over "source" is a
# known answer: ``testExpectedSignature`` in the same file.
SDK_TEST_KEY_PEM = """-----BEGIN PRIVATE KEY-----
MIIEvgIBADANBgkqhkiG9w0BAQEFAASCBKgwggSkAgEAAoIBAQDZUJN33V+dSfvd
fL0Mu+39XrZNXFFMQSy1V15FpncHeV47SmV0TzTqZc7hHB0ddqAdDi8Z5k3TKqb7
6sOwYr5TcAfuR6PIPaleyE0/0KrljBum2Isa2Nyq7Dgc3ElBQ6YN4l/a+DpvKaz1
FSKmKrhLNskqokWVSlu4g8OlKlbPXQ9ibII14MZRQrrkTmHYHzfi7GXXM0thAKuR
0HNvyhTHBh4/lrYM3GaMvmWwkwvsMavnOex6+eioZHBOb1/EIZ/LzC6zuHArPpyW
3daGaZ1rtQB1vVzTyERAVVFsXXgBHvfFud3w3ShsJYk8JvMwK2RpJ5/gV0QSARcm
LDRUAlPzAgMBAAECggEBAMc7rDeUaXiWv6bMGbZ3BTXpg1FhdddnWUnYE8HfX/km
OFI7XtBHXcgYFpcjYz4D5787pcsk7ezPidAj58zqenuclmjKnUmT3pfbI5eCA2v4
C9HnbYDrmUPK1ZcADtka4D6ScDccpNYNa1g2TFHzkIrEa6H+q7S3O2fqxY/DRVtN
0JIXalBb8daaqL5QVzSmM2BMVnHy+YITJWIkP2a3pKs9C0W65JGDsnG0wVrHinHF
+cnhFZIbaPEI//DAFMc9NkrWOKVRTEgcCUxCFaHOZVNxDWZD7A2ZfJB2rK6eg//y
gEiFDR2h6mTaDowMB4YF2n2dsIO4/dCG8vPHI20jn4ECgYEA/ZGu6lEMlO0XZnam
AZGtiNgLcCfM/C2ZERZE7QTRPZH1WdK92Al9ndldsswFw4baJrJLCmghjF/iG4zi
hhBvLnOLksnZUfjdumxoHDWXo2QBWbI5QsWIE7AuTiWgWj1I7X4fCXSQf6i+M/y2
6TogQ7d0ANpZFyOkTNMn/tiJvLECgYEA22XqlamG/yfAGWery5KNH2DGlTIyd6xJ
WtJ9j3jU99lZ0bCQ5xhiBbU9ImxCi3zgTsoqLWgA/p00HhNFNoUcTl9ofc0G3zwT
D1y0ZzcnVKxGJdZ6ohW52V0hJStAigtjYAsUgjm7//FH7PiQDBDP1Wa6xSRkDQU/
aSbQxvEE8+MCgYEA3bb8krW7opyM0XL9RHH0oqsFlVO30Oit5lrqebS0oHl3Zsr2
ZGgoBlWBsEzk3UqUhTFwm/DhJLTSJ/TQPRkxnhQ5/mewNhS9C7yua7wQkzVmWN+V
YeUGTvDGDF6qDz12/vJAgSwDDRym8x4NcXD5tTw7mmNRcwIfL22SkysThIECgYAV
BgccoEoXWS/HP2/u6fQr9ZIR6eV8Ij5FPbZacTG3LlS1Cz5XZra95UgebFFUHHtC
EY1JHJY7z8SWvTH8r3Su7eWNaIAoFBGffzqqSVazfm6aYZsOvRY6BfqPHT3p/H1h
Tq6AbBffxrcltgvXnCTORjHPglU0CjSxVs7awW3AEQKBgB5WtaC8VLROM7rkfVIq
+RXqE5vtJfa3e3N7W3RqxKp4zHFAPfr82FK5CX2bppEaxY7SEZVvVInKDc5gKdG/
jWNRBmvvftZhY59PILHO2X5vO4FXh7suEjy6VIh0gsnK36mmRboYIBGsNuDHjXLe
BDa+8mDLkWu5nHEhOxy2JJZl
-----END PRIVATE KEY-----
"""
SDK_TEST_SIGNATURE = (
    "BKyAfU4iMCuvXMXS0Wzam3V/cnxZ+JaqigPM5OhljS2iOT95OO6Fsuml2JkFANJU9K6q9bLlDhPXuoVz+pp4hAm6"
    "pHU4ld815U4jsKu1RkyaII+1CYBUYC8TK0XtJ8FwUXXz8vZHh58rrAVN1XwNyvD1vfpxrMT4SL536GLwvpUHlCqIMzoZUguLli/K8V29QiOh"
    "uH6IEqLNJn8e9b3nwNcQ7be3CzYGpDAKBfDGPCqCv8Rw5zndhlffk2FEA70G4hvMwe51qMN/RAJbknXG23bSlObuTCN7Ndj1aJGH6/L+hdwf"
    "LpUtJm4QYVazzW7DFD27EpSQEqA8bX9+8m1rLg=="
)

BEIJING = timezone(timedelta(hours=8))


def sdk_key() -> rsa.RSAPrivateKey:
    key = load_pem_private_key(SDK_TEST_KEY_PEM.encode(), password=None)
    assert isinstance(key, rsa.RSAPrivateKey)
    return key


def rsa_ok(key: rsa.RSAPublicKey, data: bytes, signature_b64: str) -> bool:
    """SHA256 with RSA (PKCS#1 v1.5) verification done here, not with the code under test."""
    try:
        key.verify(base64.b64decode(signature_b64), data, padding.PKCS1v15(), hashes.SHA256())
    except Exception:
        return False
    return True


def rsa_sign(key: rsa.RSAPrivateKey, data: bytes) -> str:
    return base64.b64encode(key.sign(data, padding.PKCS1v15(), hashes.SHA256())).decode()


# -- request signatures ("签名生成") ------------------------------------------------------------------

# The worked example of "签名生成": GET https://api.mch.weixin.qq.com/v3/certificates, the timestamp
# from `date +%s` and a nonce from hexdump. The documented string to sign, byte for byte:
DOC_TIMESTAMP = "1554208460"
DOC_NONCE = "593BEC0C930BF1AFEB40B4A08C8FB242"
DOC_STRING_TO_SIGN = b"GET\n/v3/certificates\n1554208460\n593BEC0C930BF1AFEB40B4A08C8FB242\n\n"


def test_the_request_string_to_sign_is_the_documented_one() -> None:
    assert protocol.message("GET", "/v3/certificates", DOC_TIMESTAMP, DOC_NONCE, b"") == DOC_STRING_TO_SIGN


def test_sign_request_signs_the_documented_string_and_writes_the_documented_header() -> None:
    key = sdk_key()
    auth = protocol.sign_request(
        key,
        mchid="1900009191",
        serial_no="1DDE55AD98ED71D6EDD4A4A16996DE7B47773A8C",
        method="get",  # the method line is upper case whatever the caller wrote
        url="/v3/certificates",
        body=b"",
        timestamp=int(DOC_TIMESTAMP),
        nonce=DOC_NONCE,
    )
    assert auth.signature == rsa_sign(key, DOC_STRING_TO_SIGN)
    assert rsa_ok(key.public_key(), DOC_STRING_TO_SIGN, auth.signature)
    # "Authorization: 认证类型 签名信息": WECHATPAY2-SHA256-RSA2048, then the five name="value" fields
    # (in the order of the documented example header).
    assert auth.header() == (
        'WECHATPAY2-SHA256-RSA2048 mchid="1900009191",nonce_str="593BEC0C930BF1AFEB40B4A08C8FB242",'
        f'signature="{auth.signature}",timestamp="1554208460",'
        'serial_no="1DDE55AD98ED71D6EDD4A4A16996DE7B47773A8C"'
    )


def test_a_post_body_is_signed_as_sent_with_its_own_trailing_newline() -> None:
    # "如果参数本身以\n结束，也需要附加一个\n": wechatpay-go's credential test signs the body
    # "Hello World!\n" as "...\nHello World!\n\n".
    signed = protocol.message("POST", "/v3/certificates", "1624523846", "A1B2C3D4E5F6G7", b"Hello World!\n")
    assert signed == b"POST\n/v3/certificates\n1624523846\nA1B2C3D4E5F6G7\nHello World!\n\n"


def test_the_query_string_is_part_of_the_signed_url() -> None:
    # "如果请求中有查询参数，URL末尾应附加有'?'和对应的查询字符串。"
    signed = protocol.message(
        "GET",
        "/v3/pay/transactions/out-trade-no/1217752501201407033233368018?mchid=1230000109",
        "1",
        "N",
        b"",
    )
    assert (
        signed.split(b"\n")[1]
        == b"/v3/pay/transactions/out-trade-no/1217752501201407033233368018?mchid=1230000109"
    )


def test_a_known_key_gives_the_sdk_known_signature() -> None:
    assert protocol.sign(sdk_key(), b"source") == SDK_TEST_SIGNATURE
    assert protocol.verify(sdk_key().public_key(), b"source", SDK_TEST_SIGNATURE)
    assert not protocol.verify(sdk_key().public_key(), b"sourcE", SDK_TEST_SIGNATURE)


def test_the_authorization_fields_may_come_in_any_order() -> None:
    # "注：以上五项签名信息，无顺序要求。" wechatpay-go writes signature last.
    header = (
        'WECHATPAY2-SHA256-RSA2048 mchid="1234567890",nonce_str="A1B2C3D4E5F6G7",'
        'timestamp="1624523846",serial_no="0123456789ABC",signature="c2lnbmF0dXJl"'
    )
    auth = protocol.parse_authorization(header)
    assert (auth.mchid, auth.nonce_str, auth.timestamp, auth.serial_no, auth.signature) == (
        "1234567890",
        "A1B2C3D4E5F6G7",
        "1624523846",
        "0123456789ABC",
        "c2lnbmF0dXJl",
    )


# -- response and callback verification ("签名验证") --------------------------------------------------


def test_the_verification_string_is_timestamp_nonce_body_each_with_a_newline() -> None:
    body = b'{"code_url":"weixin://wxpay/bizpayurl?pr=p4lpSuKzz"}'
    assert protocol.message("1554209980", "c5ac7061fccab6bf3e254dcf98995b8c", body) == (
        b"1554209980\nc5ac7061fccab6bf3e254dcf98995b8c\n" + body + b"\n"
    )
    # "若应答报文主体为空（如HTTP状态码为204 No Content），最后一行仅为一个\n换行符。"
    assert protocol.message("1554209980", "c5ac7061fccab6bf3e254dcf98995b8c", b"") == (
        b"1554209980\nc5ac7061fccab6bf3e254dcf98995b8c\n\n"
    )


def test_the_documented_header_names() -> None:
    assert (
        protocol.HEADER_SERIAL,
        protocol.HEADER_SIGNATURE,
        protocol.HEADER_TIMESTAMP,
        protocol.HEADER_NONCE,
    ) == ("Wechatpay-Serial", "Wechatpay-Signature", "Wechatpay-Timestamp", "Wechatpay-Nonce")


# -- invoking the wallet: JSAPI paySign and APP sign --------------------------------------------------


def test_jsapi_pay_sign_signs_the_documented_four_lines() -> None:
    # "JSAPI调起支付" 数据举例: appId, timeStamp, nonceStr, package, each followed by \n.
    documented = (
        b"wx8888888888888888\n1414561699\n5K8264ILTKCH16CQ2502SI8ZNMTM67VS\n"
        b"prepay_id=wx201410272009395522657a690389285100\n"
    )
    signature = protocol.jsapi_pay_sign(
        sdk_key(),
        "wx8888888888888888",
        "1414561699",
        "5K8264ILTKCH16CQ2502SI8ZNMTM67VS",
        "prepay_id=wx201410272009395522657a690389285100",
    )
    assert signature == rsa_sign(sdk_key(), documented)


def test_app_pay_sign_signs_the_documented_four_lines() -> None:
    # "APP调起支付" 数据举例: appid, timestamp, noncestr, prepayid, each followed by \n.
    documented = (
        b"wx8888888888888888\n1414561699\n5K8264ILTKCH16CQ2502SI8ZNMTM67VS\nWX1217752501201407033233368018\n"
    )
    signature = protocol.app_pay_sign(
        sdk_key(),
        "wx8888888888888888",
        "1414561699",
        "5K8264ILTKCH16CQ2502SI8ZNMTM67VS",
        "WX1217752501201407033233368018",
    )
    assert signature == rsa_sign(sdk_key(), documented)


# -- AEAD_AES_256_GCM ("证书和回调报文解密") -----------------------------------------------------------


def test_decrypt_reads_the_sdk_known_ciphertext() -> None:
    # wechatpay-go utils/aes_test.go. Its key is 16 bytes (the SDK tests the layout, not the length):
    # base64 of ciphertext || 16-byte tag, the nonce and associated_data used as their UTF-8 bytes.
    plain = protocol.decrypt(
        b"testAPIv3Key0000",
        "wCq51qZv4Yfg",
        "Dl56FrqWQJF1t9LtC3vEUsniZKvbqdR8",
        "FsdXzxryWfKwvLJKf8LG/ToRPTRh8RN9wROC",
    )
    assert plain == b"Hello World"
    with pytest.raises(ValueError):
        protocol.decrypt(
            b"testAPIv3Key1111",
            "wCq51qZv4Yfg",
            "Dl56FrqWQJF1t9LtC3vEUsniZKvbqdR8",
            "FsdXzxryWfKwvLJKf8LG/ToRPTRh8RN9wROC",
        )
    with pytest.raises(ValueError):
        protocol.decrypt(
            b"testAPIv3Key0000", "wCq51qZv4Yfg", "Dl56FrqWQJF1t9LtC3vEUsniZKvbqdR8", "SGVsbG8gV29ybGQK"
        )


APIV3_KEY = b"0123456789abcdef0123456789ABCDEF"  # "微信支付使用的密钥key长度为32个字节"


def seal(plaintext: bytes, nonce: str, associated_data: str, key: bytes = APIV3_KEY) -> str:
    return base64.b64encode(AESGCM(key).encrypt(nonce.encode(), plaintext, associated_data.encode())).decode()


def test_decrypt_reads_a_resource_sealed_with_a_32_byte_key_and_checks_associated_data() -> None:
    sealed = seal(b'{"a":1}', "fdasflkja484", "transaction")
    assert protocol.decrypt(APIV3_KEY, "fdasflkja484", "transaction", sealed) == b'{"a":1}'
    with pytest.raises(ValueError):
        protocol.decrypt(APIV3_KEY, "fdasflkja484", "certificate", sealed)
    # "associated_data长度小于16个字节并可能为空字符串"
    assert protocol.decrypt(APIV3_KEY, "fdasflkja484", "", seal(b"x", "fdasflkja484", "")) == b"x"


def test_a_platform_certificate_listing_is_read_as_documented() -> None:
    # "获取平台证书列表": data[].serial_no and encrypt_certificate {algorithm, nonce, associated_data,
    # ciphertext}; associated_data is "certificate".
    key = samples.new_rsa_key()
    pem = samples.self_signed_certificate(key, "Tenpay.com Root CA")
    listing = {
        "data": [
            {
                "serial_no": "5157f09efdc096de15ebe81a47057a7232f1b8e1",
                "effective_time": "2018-06-08T10:34:56+08:00",
                "expire_time": "2018-12-08T10:34:56+08:00",
                "encrypt_certificate": {
                    "algorithm": "AEAD_AES_256_GCM",
                    "nonce": "61f9c719728a",
                    "associated_data": "certificate",
                    "ciphertext": seal(pem.encode(), "61f9c719728a", "certificate"),
                },
            }
        ]
    }
    keys = certificates_from_listing(APIV3_KEY, json.dumps(listing).encode())
    # Serials are compared without regard to case (the Wechatpay-Serial header is upper case).
    assert list(keys) == ["5157F09EFDC096DE15EBE81A47057A7232F1B8E1"]
    assert (
        keys["5157F09EFDC096DE15EBE81A47057A7232F1B8E1"].public_numbers() == key.public_key().public_numbers()
    )


# -- times and amounts --------------------------------------------------------------------------------


def test_times_are_rfc3339_in_beijing_time() -> None:
    # "示例：2015-05-20T13:29:35+08:00 表示北京时间2015年5月20日13点29分35秒。"
    assert (
        protocol.rfc3339(datetime(2015, 5, 20, 5, 29, 35, 123456, tzinfo=UTC)) == "2015-05-20T13:29:35+08:00"
    )
    assert protocol.parse_rfc3339("2015-05-20T13:29:35+08:00") == datetime(2015, 5, 20, 5, 29, 35, tzinfo=UTC)
    with pytest.raises(ValueError):
        protocol.parse_rfc3339("2015-05-20T13:29:35")


# The decrypted resource of "支付成功回调通知" (the same object the order query answers), as
# documented. Amounts are integer fen: total 100 is 1.00 yuan.
DOC_TRANSACTION: dict[str, Any] = {
    "transaction_id": "1217752501201407033233368018",
    "amount": {"payer_total": 100, "total": 100, "currency": "CNY", "payer_currency": "CNY"},
    "mchid": "1230000109",
    "trade_state": "SUCCESS",
    "bank_type": "CMC",
    "promotion_detail": [],
    "success_time": "2018-06-08T10:34:56+08:00",
    "payer": {"openid": "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"},
    "out_trade_no": "1217752501201407033233368018",
    "appid": "wxd678efh567hg6787",
    "trade_state_desc": "支付成功",
    "trade_type": "MICROPAY",
    "attach": "自定义数据",
    "scene_info": {"device_id": "013467007045764"},
}


def test_the_documented_transaction_reads_as_paid_in_integer_fen() -> None:
    status = transactions.read_transaction(
        DOC_TRANSACTION, "1217752501201407033233368018", mchid="1230000109", appid="wxd678efh567hg6787"
    )
    assert status.state is OrderState.SUCCEEDED
    assert status.amount == 100 and status.currency == "CNY"
    assert status.channel_trade_no == "1217752501201407033233368018"
    assert status.paid_at == datetime(2018, 6, 8, 10, 34, 56, tzinfo=BEIJING)


@pytest.mark.parametrize(
    ("trade_state", "expected"),
    [
        # "交易状态，枚举值" of the order query / callback.
        ("SUCCESS", OrderState.SUCCEEDED),
        ("REFUND", OrderState.SUCCEEDED),
        ("NOTPAY", OrderState.NOT_PAID),
        ("CLOSED", OrderState.CLOSED),
        ("REVOKED", OrderState.CLOSED),
        ("USERPAYING", OrderState.PAYING),
        ("PAYERROR", OrderState.FAILED),
    ],
)
def test_every_documented_trade_state_is_understood(trade_state: str, expected: OrderState) -> None:
    tx = {**DOC_TRANSACTION, "trade_state": trade_state}
    status = transactions.read_transaction(
        tx, "1217752501201407033233368018", mchid="1230000109", appid="wxd678efh567hg6787"
    )
    assert status.state is expected


# The decrypted resource of "退款结果通知" as documented (its status field is ``refund_status``).
DOC_REFUND_RESOURCE: dict[str, Any] = {
    "mchid": "1900000100",
    "transaction_id": "1008450740201411110005820873",
    "out_trade_no": "20150806125346",
    "refund_id": "50200207182018070300011301001",
    "out_refund_no": "7752501201407033233368018",
    "refund_status": "SUCCESS",
    "success_time": "2018-06-08T10:34:56+08:00",
    "user_received_account": "招商银行信用卡0403",
    "amount": {"total": 999, "refund": 999, "payer_total": 999, "payer_refund": 999},
}


def test_the_documented_refund_resource_reads_as_succeeded() -> None:
    result = refunds.read_refund(
        DOC_REFUND_RESOURCE, "7752501201407033233368018", None, status_field="refund_status"
    )
    assert result.state is RefundState.SUCCEEDED
    assert result.amount == 999
    assert result.channel_refund_no == "50200207182018070300011301001"
    assert result.refunded_at == datetime(2018, 6, 8, 10, 34, 56, tzinfo=BEIJING)


# -- a whole payment callback -------------------------------------------------------------------------


def no_calls() -> httpx.AsyncClient:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise AssertionError(f"unexpected call to {request.url}")

    return httpx.AsyncClient(transport=httpx.MockTransport(refuse))


class FixedClock:
    def __init__(self, now: datetime) -> None:
        self._now = now

    def now(self) -> datetime:
        return self._now


def test_a_callback_built_as_documented_is_verified_and_decrypted() -> None:
    """The envelope of "支付成功回调通知" (id, create_time, resource_type, event_type, summary,
    resource {original_type, algorithm, ciphertext, associated_data, nonce}), its resource sealed with
    AESGCM here and the body signed here over "timestamp\\nnonce\\nbody\\n" with the platform key."""
    platform = sdk_key()
    merchant = samples.new_rsa_key()
    adapter = WeChatPayAdapter(
        account_id="chacc_vectors",
        base_url="https://api.mch.weixin.qq.com",
        config={
            "mchid": "1230000109",
            "appid": "wxd678efh567hg6787",
            "merchant_serial_no": "1DDE55AD98ED71D6EDD4A4A16996DE7B47773A8C",
            "platform_public_key_id": "PUB_KEY_ID_0112345678901234567890",
            "platform_public_key_pem": samples.public_pem(platform),
        },
        credentials={"private_key_pem": samples.private_pem(merchant), "apiv3_key": APIV3_KEY.decode()},
        http=no_calls(),  # in public-key mode a callback needs no outbound call
        clock=FixedClock(datetime.fromtimestamp(1554209980, UTC)),
        certificates=CertificateCache(),
    )
    body = json.dumps(
        {
            "id": "EV-2018022511223320873",
            "create_time": "2015-05-20T13:29:35+08:00",
            "resource_type": "encrypt-resource",
            "event_type": "TRANSACTION.SUCCESS",
            "summary": "支付成功",
            "resource": {
                "original_type": "transaction",
                "algorithm": "AEAD_AES_256_GCM",
                "ciphertext": seal(json.dumps(DOC_TRANSACTION).encode(), "fdasflkja484", "transaction"),
                "associated_data": "transaction",
                "nonce": "fdasflkja484",
            },
        },
        ensure_ascii=False,
    ).encode()
    nonce = "c5ac7061fccab6bf3e254dcf98995b8c"
    headers = {
        "Wechatpay-Serial": "PUB_KEY_ID_0112345678901234567890",
        "Wechatpay-Timestamp": "1554209980",
        "Wechatpay-Nonce": nonce,
        "Wechatpay-Signature": rsa_sign(platform, b"1554209980\n" + nonce.encode() + b"\n" + body + b"\n"),
        "Wechatpay-Signature-Type": "WECHATPAY2-SHA256-RSA2048",
    }
    status = asyncio.run(adapter.parse_notification(headers, body))
    assert status.state is OrderState.SUCCEEDED
    assert status.order_no == "1217752501201407033233368018"
    assert status.amount == 100

    tampered = body.replace(b"TRANSACTION.SUCCESS", b"TRANSACTION.SUCCESS ")
    with pytest.raises(NotificationRejected):
        asyncio.run(adapter.parse_notification(headers, tampered))

    # "商户接收到回调通知报文后…应答": success is 200 or 204 without a body; failure a 4XX/5XX with
    # {"code": "FAIL", "message": "失败"}.
    ok = adapter.reply(True)
    assert ok.status_code in (200, 204) and ok.body == b""
    failed = adapter.reply(False)
    assert failed.status_code >= 400
    assert json.loads(failed.body) == {"code": "FAIL", "message": "失败"}
