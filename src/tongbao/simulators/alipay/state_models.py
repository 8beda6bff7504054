"""What the Alipay simulator remembers: apps, trades and their refunds, plus the numbers Alipay hands out."""

from __future__ import annotations

import secrets
import string
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric import rsa

from tongbao.channels.alipay import protocol
from tongbao.money import fen_to_yuan


@dataclass
class App:
    app_id: str
    public_key: rsa.RSAPublicKey
    seller_id: str


def _digits(n: int) -> str:
    return "".join(secrets.choice(string.digits) for _ in range(n))


def new_trade_no(now: datetime) -> str:
    return protocol.format_time(now)[:10].replace("-", "") + "22001" + _digits(15)


def new_qr_code() -> str:
    return "https://qr.alipay.com/bax" + "".join(
        secrets.choice(string.ascii_lowercase + string.digits) for _ in range(21)
    )


def new_buyer_id() -> str:
    return "2088" + _digits(12)


@dataclass
class Refund:
    """One out_request_no of a trade: Alipay refunds each number at most once."""

    out_request_no: str
    amount: int  # fen
    reason: str
    created_at: datetime
    status: str = protocol.REFUND_PROCESSING  # REFUND_PROCESSING | REFUND_SUCCESS | REFUND_FAIL
    finished_at: datetime | None = None
    polls_left: int = 0  # a "processing" refund succeeds after this many queries of it
    error_code: str | None = None  # why a refund Alipay accepted failed later

    def record(self, trade_no: str) -> dict[str, Any]:
        record: dict[str, Any] = {
            "refund_no": self.out_request_no,
            "channel_refund_no": trade_no,  # Alipay numbers no refunds: the trade's number stands for it
            "amount": self.amount,
            "refund_amount": fen_to_yuan(self.amount),
            "status": self.status,
            "created_at": protocol.format_time(self.created_at),
        }
        if self.finished_at is not None:
            record["finished_at"] = protocol.format_time(self.finished_at)
        if self.error_code:
            record["error_code"] = self.error_code
        return record


@dataclass
class Trade:
    app_id: str
    seller_id: str
    out_trade_no: str
    trade_no: str
    method: str  # the method that created it: alipay.trade.precreate, .page.pay, .wap.pay, .app.pay, .pay
    subject: str
    total: int  # fen, what the order asks for
    notify_url: str
    return_url: str
    time_expire: datetime
    created_at: datetime
    request: dict[str, Any]  # the biz_content and notify_url, to tell a repeat from a reuse
    qr_code: str | None = None
    auth_code: str | None = None
    status: str = "WAIT_BUYER_PAY"
    paid: int | None = None  # fen the payer paid
    buyer_id: str | None = None
    gmt_payment: datetime | None = None
    cancel_action: str | None = None
    polls_left: int = 0  # a "processing" barcode payment completes after this many queries
    notifications: list[dict[str, Any]] = field(default_factory=list)
    refunds: dict[str, Refund] = field(default_factory=dict)  # by out_request_no, in order
    buyer_closed: bool = False  # the payer's account is closed: no refund can reach it

    def refunded(self) -> int:
        """Fen gone back to the payer (Alipay's refund_fee)."""
        return sum(r.amount for r in self.refunds.values() if r.status == protocol.REFUND_SUCCESS)

    def committed(self) -> int:
        """Fen refunded or on the way back: what no new refund may take again."""
        return sum(r.amount for r in self.refunds.values() if r.status != protocol.REFUND_FAIL)

    def refresh(self, now: datetime) -> None:
        """An unpaid trade closes at its time_expire, as Alipay does."""
        if self.status == "WAIT_BUYER_PAY" and now >= self.time_expire:
            self.status = "TRADE_CLOSED"

    def amount_text(self, delta: int = 0) -> str:
        return fen_to_yuan(max(0, (self.paid if self.paid is not None else self.total) + delta))

    def details(self, delta: int = 0) -> dict[str, str]:
        """The trade as alipay.trade.query reports it (without code and msg)."""
        out = {
            "trade_no": self.trade_no,
            "out_trade_no": self.out_trade_no,
            "trade_status": self.status,
            "total_amount": fen_to_yuan(self.total) if self.paid is None else self.amount_text(delta),
        }
        if self.buyer_id:
            out.update(buyer_logon_id="159****5620", buyer_user_id=self.buyer_id)
        if self.gmt_payment is not None and self.paid is not None:
            out.update(
                buyer_pay_amount=self.amount_text(delta),
                receipt_amount=self.amount_text(delta),
                send_pay_date=protocol.format_time(self.gmt_payment),
            )
        return out

    def record(self) -> dict[str, Any]:
        return {
            "app_id": self.app_id,
            "out_trade_no": self.out_trade_no,
            "trade_no": self.trade_no,
            "method": self.method,
            "subject": self.subject,
            "total_amount": fen_to_yuan(self.total),
            "amount": self.total,
            "paid_amount": self.paid,
            "trade_status": self.status,
            "qr_code": self.qr_code,
            "notify_url": self.notify_url,
            "return_url": self.return_url,
            "time_expire": protocol.format_time(self.time_expire),
            "gmt_create": protocol.format_time(self.created_at),
            "gmt_payment": protocol.format_time(self.gmt_payment) if self.gmt_payment else None,
            "cancel_action": self.cancel_action,
            "notifications": list(self.notifications),
            "refunded_amount": self.refunded(),
            "refunds": [refund.record(self.trade_no) for refund in self.refunds.values()],
        }
