"""What the UnionPay simulator remembers: its own signing identity, merchants, their orders and the
orders' refunds."""

from __future__ import annotations

import secrets
import string
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from cryptography.hazmat.primitives.asymmetric import rsa

from tongbao.channels.unionpay import protocol
from tongbao.security import samples


@dataclass(frozen=True)
class Identity:
    """UnionPay's signing key and the certificate merchants verify answers and notifies with."""

    key: rsa.RSAPrivateKey
    certificate_pem: str
    cert_id: str

    @classmethod
    def create(cls, key: rsa.RSAPrivateKey | None = None) -> Identity:
        key = key or samples.new_rsa_key()
        pem = samples.self_signed_certificate(key, "China UnionPay signing simulator")
        return cls(key, pem, protocol.cert_id(protocol.load_certificate(pem)))

    def sign(self, params: dict[str, str]) -> dict[str, str]:
        return protocol.signed(self.key, self.cert_id, params)


@dataclass(frozen=True)
class Merchant:
    mer_id: str
    cert_id: str
    public_key: rsa.RSAPublicKey


@dataclass
class Order:
    mer_id: str
    order_id: str
    txn_time: str
    txn_amt: int  # fen
    channel_type: str
    front_url: str
    back_url: str
    pay_timeout: datetime
    created_at: datetime
    request: dict[str, str]  # the signed fields as posted, to tell a repeat from a reuse
    token: str  # what the payer page names the order by
    state: str = "OPEN"  # OPEN | PAID; ABANDONED when the payer gave up (still payable until timeout)
    paid_amount: int | None = None
    query_id: str | None = None
    trace_no: str | None = None
    trace_time: str | None = None
    settle_date: str | None = None
    queries: int = 0
    notifies: list[dict[str, Any]] = field(default_factory=list)
    refunds: list[Refund] = field(default_factory=list)

    @property
    def paid(self) -> bool:
        return self.state == "PAID"

    def refundable(self) -> int:
        """What may still go back: the paid amount less every refund that has not failed."""
        taken = sum(refund.txn_amt for refund in self.refunds if refund.status is not RefundStatus.FAILED)
        return (self.paid_amount or 0) - taken

    def expired(self, now: datetime) -> bool:
        return now >= self.pay_timeout

    def result(self, amount_delta: int = 0) -> dict[str, str]:
        """The transaction as the back notify, the front notify and a query carry it (unsigned)."""
        amount = (self.paid_amount if self.paid_amount is not None else self.txn_amt) + amount_delta
        fields = {
            "version": protocol.VERSION,
            "encoding": protocol.ENCODING,
            "signMethod": protocol.SIGN_METHOD,
            "txnType": protocol.TXN_CONSUME[0],
            "txnSubType": protocol.TXN_CONSUME[1],
            "bizType": protocol.BIZ_TYPE,
            "channelType": self.channel_type,
            "accessType": protocol.ACCESS_TYPE,
            "merId": self.mer_id,
            "orderId": self.order_id,
            "txnTime": self.txn_time,
            "txnAmt": str(amount),
            "currencyCode": protocol.CURRENCY_CODE,
            "queryId": self.query_id or "",
            "traceNo": self.trace_no or "",
            "traceTime": self.trace_time or "",
            "settleDate": self.settle_date or "",
            "settleAmt": str(amount) if self.paid else "",
            "settleCurrencyCode": protocol.CURRENCY_CODE if self.paid else "",
            "accNo": "6216***********0018" if self.paid else "",
            "payType": "0001" if self.paid else "",
            "respCode": protocol.RESP_SUCCESS,
            "respMsg": "成功[0000000]",
        }
        return {k: v for k, v in fields.items() if v != ""}

    def record(self) -> dict[str, Any]:
        return {
            "mer_id": self.mer_id,
            "order_id": self.order_id,
            "txn_time": self.txn_time,
            "txn_amt": self.txn_amt,
            "paid_amount": self.paid_amount,
            "state": self.state,
            "channel_type": self.channel_type,
            "front_url": self.front_url,
            "back_url": self.back_url,
            "pay_timeout": protocol.format_time(self.pay_timeout),
            "query_id": self.query_id,
            "trace_no": self.trace_no,
            "trace_time": self.trace_time,
            "settle_date": self.settle_date,
            "token": self.token,
            "notifies": list(self.notifies),
            "refunds": [refund.record() for refund in self.refunds],
        }


class RefundStatus(StrEnum):
    """The simulator's words for where a refund stands (the gateway speaks in respCodes)."""

    PROCESSING = "PROCESSING"  # origRespCode 05
    SUCCESS = "SUCCESS"  # 00
    FAILED = "FAILED"  # any other code: the refund will not reach the payer


@dataclass
class Refund:
    """A refund (退货) of a paid order: a transaction of its own, named by merId + orderId + txnTime."""

    mer_id: str
    order_id: str
    txn_time: str
    txn_amt: int  # fen
    channel_type: str
    back_url: str
    original: Order
    query_id: str
    created_at: datetime
    status: RefundStatus = RefundStatus.PROCESSING
    resp_code: str = "05"  # what the transaction's origRespCode / notify respCode say
    resp_msg: str = "交易已受理，请稍后查询交易结果"
    held_polls: int | None = None  # a processing fault: queries still answered 05 before it settles
    abnormal: bool = False  # an abnormal fault: it settles as failed
    trace_no: str | None = None
    trace_time: str | None = None
    settle_date: str | None = None
    finished_at: datetime | None = None
    notifies: list[dict[str, Any]] = field(default_factory=list)

    @property
    def processing(self) -> bool:
        return self.status is RefundStatus.PROCESSING

    def result(self, amount_delta: int = 0) -> dict[str, str]:
        """The refund as its back notify and a query carry it (unsigned)."""
        succeeded = self.status is RefundStatus.SUCCESS
        amount = str(self.txn_amt + amount_delta)
        fields = {
            "version": protocol.VERSION,
            "encoding": protocol.ENCODING,
            "signMethod": protocol.SIGN_METHOD,
            "txnType": protocol.TXN_REFUND[0],
            "txnSubType": protocol.TXN_REFUND[1],
            "bizType": protocol.BIZ_TYPE,
            "channelType": self.channel_type,
            "accessType": protocol.ACCESS_TYPE,
            "merId": self.mer_id,
            "orderId": self.order_id,
            "txnTime": self.txn_time,
            "txnAmt": amount,
            "currencyCode": protocol.CURRENCY_CODE,
            "queryId": self.query_id,
            "origQryId": self.original.query_id or "",
            "traceNo": self.trace_no or "",
            "traceTime": self.trace_time or "",
            "settleDate": self.settle_date or "",
            "settleAmt": amount if succeeded else "",
            "settleCurrencyCode": protocol.CURRENCY_CODE if succeeded else "",
            "respCode": self.resp_code,
            "respMsg": self.resp_msg,
        }
        return {k: v for k, v in fields.items() if v != ""}

    def record(self) -> dict[str, Any]:
        return {
            "refund_no": self.order_id,
            "channel_refund_no": self.query_id,
            "amount": self.txn_amt,
            "status": self.status.value,
            "resp_code": self.resp_code,
            "resp_msg": self.resp_msg,
            "txn_time": self.txn_time,
            "orig_qry_id": self.original.query_id,
            "back_url": self.back_url,
            "created_at": protocol.format_time(self.created_at),
            "finished_at": protocol.format_time(self.finished_at) if self.finished_at else None,
            "notifies": list(self.notifies),
        }


def digits(count: int) -> str:
    return "".join(secrets.choice(string.digits) for _ in range(count))


def new_query_id(now: datetime) -> str:
    """21 digits: the Beijing date and time, then a sequence."""
    return f"{now.astimezone(protocol.BEIJING):%y%m%d%H%M%S}{digits(9)}"


def new_token() -> str:
    return secrets.token_urlsafe(16)
