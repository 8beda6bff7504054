"""The bytes the UnionPay adapter puts on the wire, and how it reads answers shaped as documented.

Back-end calls go to an ``httpx.MockTransport`` that records each request and answers with a ``k=v``
message signed here (``hashlib`` + ``cryptography`` alone) by a "UnionPay" key. Each request's
signature is verified here by "签名机制": SHA256withRSA over the lowercase hex SHA-256 of the fields
but ``signature``, sorted by name, joined ``k=v&…``.

Sources: open.unionpay.com "在线网关支付" API pages — 消费 (frontTransReq.do, txnType 01/01, bizType
000201, channelType 07 PC / 08 mobile), 交易状态查询 (queryTrans.do, txnType 00/00), 退货
(backTransReq.do, txnType 04/00, origQryId); UnionPay's SDK demos post them as
``application/x-www-form-urlencoded;charset=UTF-8``.

The answers carry ``certId``, which the adapter requires; the gateway's 5.1.0 answers name their key
by ``signPubKeyCert`` instead (see the strict xfail in ``test_unionpay_vectors.py``).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from urllib.parse import parse_qsl

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from ulid import ULID

from tongbao.channels.base import (
    ChannelUnknownOutcome,
    Method,
    OrderRequest,
    OrderState,
    RefundRequest,
    RefundState,
)
from tongbao.channels.unionpay.adapter import UnionPayAdapter
from tongbao.ids import new_id
from tongbao.security import samples

BASE_URL = "https://gateway.test.95516.com"
MER_ID = "777290058110048"
BEIJING = timezone(timedelta(hours=8))
_keys: dict[str, tuple[rsa.RSAPrivateKey, str]] = {}


def identity(name: str) -> tuple[rsa.RSAPrivateKey, str]:
    """A key and a self-signed certificate for it."""
    if name not in _keys:
        key = samples.new_rsa_key()
        _keys[name] = (key, samples.self_signed_certificate(key, name))
    return _keys[name]


def serial(pem: str) -> str:
    return str(x509.load_pem_x509_certificate(pem.encode()).serial_number)


def string_to_sign(fields: dict[str, str]) -> bytes:
    return "&".join(f"{k}={fields[k]}" for k in sorted(fields) if k != "signature").encode()


def sign(key: rsa.RSAPrivateKey, fields: dict[str, str]) -> str:
    digest = hashlib.sha256(string_to_sign(fields)).hexdigest().encode()
    return base64.b64encode(key.sign(digest, padding.PKCS1v15(), hashes.SHA256())).decode()


def check_signed(fields: dict[str, str]) -> None:
    """Signed by the merchant, whose certificate ``certId`` names (its serial in decimal)."""
    key, pem = identity("merchant")
    assert fields["certId"] == serial(pem)
    digest = hashlib.sha256(string_to_sign(fields)).hexdigest().encode()
    key.public_key().verify(
        base64.b64decode(fields["signature"]), digest, padding.PKCS1v15(), hashes.SHA256()
    )
    assert all(value != "" for value in fields.values())  # blank fields are left out of a request


class FixedClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


@dataclass
class Gateway:
    """Records back-end posts; answers each with the next queued fields, signed as the gateway signs."""

    answers: list[dict[str, str]] = field(default_factory=list)
    seen: list[httpx.Request] = field(default_factory=list)

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(request)
        key, pem = identity("unionpay")
        answer = {**self.answers.pop(0), "certId": serial(pem)}
        answer["signature"] = sign(key, answer)
        # The gateway writes its answer unescaped: k=v&k=v.
        body = "&".join(f"{k}={v}" for k, v in answer.items())
        return httpx.Response(
            200, content=body.encode(), headers={"Content-Type": "text/plain;charset=UTF-8"}
        )

    def only(self, path: str) -> dict[str, str]:
        (request,) = self.seen
        assert request.method == "POST"
        assert str(request.url) == BASE_URL + path
        assert request.headers["Content-Type"] == "application/x-www-form-urlencoded; charset=UTF-8"
        pairs = parse_qsl(request.content.decode(), keep_blank_values=True, strict_parsing=True)
        fields = dict(pairs)
        assert len(fields) == len(pairs)
        check_signed(fields)
        return fields


@pytest.fixture(name="gateway")
def gateway_fixture() -> Gateway:
    return Gateway()


def adapter_for(gateway: Gateway) -> UnionPayAdapter:
    merchant_key, merchant_pem = identity("merchant")
    return UnionPayAdapter(
        account_id="chacc_wire",
        base_url=BASE_URL,
        config={"mer_id": MER_ID, "unionpay_certificate_pem": identity("unionpay")[1]},
        credentials={
            "signing_private_key_pem": samples.private_pem(merchant_key),
            "signing_certificate_pem": merchant_pem,
        },
        http=httpx.AsyncClient(transport=httpx.MockTransport(gateway.handle)),
        clock=FixedClock(),
    )


def common(order_no: str, txn: tuple[str, str], channel_type: str = "07") -> dict[str, str]:
    """The fields every message of ours carries. orderId is the order number without its "_"
    (8-40 letters and digits); txnTime is the order's creation time, YYYYMMDDhhmmss Beijing time."""
    prefix, ulid = order_no.split("_")
    created = ULID.from_str(ulid).datetime.astimezone(BEIJING)
    return {
        "version": "5.1.0",
        "encoding": "UTF-8",
        "signMethod": "01",
        "txnType": txn[0],
        "txnSubType": txn[1],
        "bizType": "000201",
        "channelType": channel_type,
        "accessType": "0",
        "merId": MER_ID,
        "orderId": prefix + ulid,
        "txnTime": created.strftime("%Y%m%d%H%M%S"),
    }


def without_signature(fields: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in fields.items() if k not in ("certId", "signature")}


# -- the front consume ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "channel_type"), [(Method.UNIONPAY_WEB, "07"), (Method.UNIONPAY_WAP, "08")]
)
def test_consume_is_a_signed_front_form(gateway: Gateway, method: Method, channel_type: str) -> None:
    order_no = new_id("attempt")
    order = OrderRequest(
        order_no=order_no,
        method=method,
        amount=8888,
        currency="CNY",
        subject="通宝测试",
        notify_url="https://shop.example.com/notify/unionpay",
        return_url="https://shop.example.com/return",
        expires_at=datetime(2026, 11, 25, 2, 34, 56, tzinfo=UTC),
    )
    action = asyncio.run(adapter_for(gateway).create(order))
    assert gateway.seen == []  # the payer's browser posts it
    assert action.type == "form_post"
    assert action.data["url"] == f"{BASE_URL}/gateway/api/frontTransReq.do"
    fields = dict(action.data["fields"])
    check_signed(fields)
    assert without_signature(fields) == {
        **common(order_no, ("01", "01"), channel_type),
        "txnAmt": "8888",  # fen, as digits
        "currencyCode": "156",
        "frontUrl": "https://shop.example.com/return",
        "backUrl": "https://shop.example.com/notify/unionpay",
        "payTimeout": "20261125103456",
    }


# -- query --------------------------------------------------------------------------------------------


def test_query_of_a_paid_consume(gateway: Gateway) -> None:
    order_no = new_id("attempt")
    sent = common(order_no, ("01", "01"))
    gateway.answers.append(
        {
            **sent,
            "txnType": "00",
            "txnSubType": "00",
            "respCode": "00",
            "respMsg": "成功[0000000]",
            "origRespCode": "00",
            "origRespMsg": "成功[0000000]",
            "queryId": "951807261002324791038",
            "traceNo": "479103",
            "traceTime": sent["txnTime"][4:],
            "txnAmt": "8888",
            "currencyCode": "156",
            "settleAmt": "8888",
            "settleCurrencyCode": "156",
            "settleDate": sent["txnTime"][4:8],
        }
    )
    status = asyncio.run(adapter_for(gateway).query(order_no))
    fields = gateway.only("/gateway/api/queryTrans.do")
    assert without_signature(fields) == common(order_no, ("00", "00"))
    assert status.state is OrderState.SUCCEEDED
    assert status.amount == 8888 and status.currency == "CNY"
    assert status.channel_trade_no == "951807261002324791038"
    assert status.paid_at == datetime.strptime(sent["txnTime"], "%Y%m%d%H%M%S").replace(tzinfo=BEIJING)


def test_query_of_an_unknown_transaction(gateway: Gateway) -> None:
    order_no = new_id("attempt")
    gateway.answers.append({**common(order_no, ("00", "00")), "respCode": "34", "respMsg": "查无此交易"})
    status = asyncio.run(adapter_for(gateway).query(order_no))
    assert status.state is OrderState.NOT_FOUND


def test_close_makes_no_call(gateway: Gateway) -> None:
    # A front consume cannot be closed; it lapses at its payTimeout.
    asyncio.run(adapter_for(gateway).close(new_id("attempt")))
    assert gateway.seen == []


# -- refunds ------------------------------------------------------------------------------------------


def refund_request(refund_no: str) -> RefundRequest:
    return RefundRequest(
        refund_no=refund_no,
        order_no=new_id("attempt"),
        channel_trade_no="951807261002324791038",
        amount=700,
        order_amount=8888,
        currency="CNY",
        notify_url="https://shop.example.com/notify/unionpay-refund",
        reason="不想要了",
    )


def test_refund_is_a_back_transaction_naming_the_consume_by_orig_qry_id(gateway: Gateway) -> None:
    refund_no = new_id("refund")
    gateway.answers.append(
        {
            **common(refund_no, ("04", "00")),
            "respCode": "00",
            "respMsg": "成功[0000000]",
            "queryId": "201807261002324791099",
            "origQryId": "951807261002324791038",
            "txnAmt": "700",
        }
    )
    result = asyncio.run(adapter_for(gateway).refund(refund_request(refund_no)))
    fields = gateway.only("/gateway/api/backTransReq.do")
    assert without_signature(fields) == {
        **common(refund_no, ("04", "00")),
        "txnAmt": "700",
        "currencyCode": "156",
        "origQryId": "951807261002324791038",
        "backUrl": "https://shop.example.com/notify/unionpay-refund",
    }
    # respCode 00 on a back transaction means "accepted": the result comes by notify or query.
    assert result.state is RefundState.PROCESSING
    assert result.channel_refund_no == "201807261002324791099"


def test_refund_query_asks_for_the_refunds_own_transaction(gateway: Gateway) -> None:
    refund_no = new_id("refund")
    sent = common(refund_no, ("04", "00"))
    gateway.answers.append(
        {
            **sent,
            "txnType": "04",
            "respCode": "00",
            "respMsg": "成功[0000000]",
            "origRespCode": "00",
            "origRespMsg": "成功[0000000]",
            "queryId": "201807261002324791099",
            "origQryId": "951807261002324791038",
            "txnAmt": "700",
            "traceTime": sent["txnTime"][4:],
        }
    )
    result = asyncio.run(adapter_for(gateway).query_refund(refund_request(refund_no)))
    fields = gateway.only("/gateway/api/queryTrans.do")
    assert without_signature(fields) == common(refund_no, ("00", "00"))
    assert result.state is RefundState.SUCCEEDED and result.amount == 700


def test_answers_signed_by_another_key_are_not_believed(gateway: Gateway) -> None:
    order_no = new_id("attempt")
    answer: dict[str, Any] = {**common(order_no, ("00", "00")), "respCode": "34", "respMsg": "查无此交易"}
    gateway.answers.append(answer)
    stranger = samples.new_rsa_key()
    original = gateway.handle

    def forged(request: httpx.Request) -> httpx.Response:
        response = original(request)
        fields = dict(part.split("=", 1) for part in response.content.decode().split("&"))
        fields["signature"] = sign(stranger, fields)
        return httpx.Response(200, content="&".join(f"{k}={v}" for k, v in fields.items()).encode())

    adapter = adapter_for(gateway)
    adapter.http = httpx.AsyncClient(transport=httpx.MockTransport(forged))
    with pytest.raises(ChannelUnknownOutcome):
        asyncio.run(adapter.query(order_no))
