"""What the simulator remembers: registered merchants, their orders and refunds, plus the ids WeChat
hands out."""

from __future__ import annotations

import secrets
import string
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final, Literal

from cryptography.hazmat.primitives.asymmetric import rsa

from tongbao.channels.wechatpay import protocol

from .state_platform import PlatformIdentity

Verification = Literal["public_key", "certificate"]

# trade_type as the query reports it, by the path segment the order was created on.
TRADE_TYPES: Final = {"native": "NATIVE", "jsapi": "JSAPI", "h5": "MWEB", "app": "APP"}
STATE_DESC: Final = {
    "NOTPAY": "订单未支付",
    "SUCCESS": "支付成功",
    "CLOSED": "订单已关闭",
    "USERPAYING": "用户支付中",
    "PAYERROR": "支付失败",
    "REVOKED": "已撤销",
    "REFUND": "转入退款",
}
# Where a refund goes back to: the payer's change by default; an abnormal refund is one whose card was
# found closed or frozen on the way back, so it names a card.
TO_CHANGE: Final = "支付用户零钱"
TO_CARD: Final = "招商银行信用卡0403"
REFUND_FINISHED: Final = ("SUCCESS", "ABNORMAL", "CLOSED")
_OPENID_ALPHABET: Final = string.ascii_letters + string.digits + "_-"


@dataclass
class Merchant:
    mchid: str
    appid: str
    serial_no: str
    public_key: rsa.RSAPublicKey
    apiv3_key: bytes
    verification: Verification

    def platform_serial(self, platform: PlatformIdentity) -> str:
        """What ``Wechatpay-Serial`` says to this merchant: the id it knows the platform key by."""
        return platform.public_key_id if self.verification == "public_key" else platform.serial


@dataclass
class Order:
    mchid: str
    appid: str
    out_trade_no: str
    kind: str  # native | jsapi | h5 | app
    description: str
    total: int  # fen
    currency: str
    attach: str
    notify_url: str
    time_expire: datetime
    created_at: datetime
    request: dict[str, Any]  # the normalised create parameters, to tell a repeat from a reuse
    answer: dict[str, str]  # what create answered, given again on an identical repeat
    prepay_id: str
    code_url: str | None = None
    payer_openid: str | None = None
    trade_state: str = "NOTPAY"
    trade_state_desc: str = STATE_DESC["NOTPAY"]
    transaction_id: str | None = None
    success_time: datetime | None = None
    bank_type: str | None = None
    callbacks: list[dict[str, Any]] = field(default_factory=list)
    refunds: list[Refund] = field(default_factory=list)

    @property
    def trade_type(self) -> str:
        return TRADE_TYPES[self.kind]

    @property
    def paid(self) -> bool:
        # A refunded order ("转入退款") was paid all the same.
        return self.trade_state in ("SUCCESS", "REFUND")

    @property
    def refundable(self) -> int:
        """Fen that may still go back: what was paid less the refunds that did not fail."""
        held = sum(refund.amount for refund in self.refunds if refund.status in ("PROCESSING", "SUCCESS"))
        return self.total - held if self.paid else 0

    def expired(self, now: datetime) -> bool:
        return now >= self.time_expire

    def set_state(self, state: str, desc: str | None = None) -> None:
        self.trade_state = state
        self.trade_state_desc = desc or STATE_DESC[state]

    def transaction(self, amount_delta: int = 0) -> dict[str, Any]:
        """The order as the query answers it and the callback resource carries it."""
        total = self.total + amount_delta
        amount: dict[str, Any] = {"total": total, "currency": self.currency, "payer_currency": self.currency}
        if self.paid:
            amount["payer_total"] = total
        body: dict[str, Any] = {
            "appid": self.appid,
            "mchid": self.mchid,
            "out_trade_no": self.out_trade_no,
            "trade_type": self.trade_type,
            "trade_state": self.trade_state,
            "trade_state_desc": self.trade_state_desc,
            "attach": self.attach,
            "amount": amount,
        }
        if self.transaction_id is not None:
            body["transaction_id"] = self.transaction_id
        if self.bank_type is not None:
            body["bank_type"] = self.bank_type
        if self.success_time is not None:
            body["success_time"] = protocol.rfc3339(self.success_time)
        if self.payer_openid is not None:
            body["payer"] = {"openid": self.payer_openid}
        return body

    def record(self) -> dict[str, Any]:
        """The control API's view: the transaction plus what only the simulator knows."""
        return {
            **self.transaction(),
            "description": self.description,
            "notify_url": self.notify_url,
            "time_expire": protocol.rfc3339(self.time_expire),
            "create_time": protocol.rfc3339(self.created_at),
            "prepay_id": self.prepay_id,
            "code_url": self.code_url,
            "h5_url": self.answer.get("h5_url"),
            "callbacks": list(self.callbacks),
            "refunds": [refund.record() for refund in self.refunds],
        }


@dataclass
class Refund:
    """One out_refund_no of one merchant: PROCESSING until it finishes as SUCCESS, ABNORMAL or CLOSED."""

    order: Order
    out_refund_no: str
    refund_id: str
    amount: int  # fen going back
    reason: str
    notify_url: str | None  # None: the merchant gave none and the simulator has no configured one
    funds_account: str
    created_at: datetime
    status: str = "PROCESSING"
    outcome: str = "SUCCESS"  # what it becomes when it finishes by itself
    polls_left: int = 0  # queries still answered PROCESSING before it finishes (fault "processing")
    user_received_account: str = TO_CHANGE
    finished_at: datetime | None = None
    callbacks: list[dict[str, Any]] = field(default_factory=list)

    @property
    def finished(self) -> bool:
        return self.status in REFUND_FINISHED

    def resource(self) -> dict[str, Any]:
        """The refund as the submit and the query answer it."""
        order = self.order
        body: dict[str, Any] = {
            "refund_id": self.refund_id,
            "out_refund_no": self.out_refund_no,
            "transaction_id": order.transaction_id,
            "out_trade_no": order.out_trade_no,
            "channel": "ORIGINAL",
            "user_received_account": self.user_received_account,
            "create_time": protocol.rfc3339(self.created_at),
            "status": self.status,
            "funds_account": self.funds_account,
            "amount": {
                "total": order.total,
                "refund": self.amount,
                "from": [],
                "payer_total": order.total,
                "payer_refund": self.amount,
                "settlement_refund": self.amount,
                "settlement_total": order.total,
                "discount_refund": 0,
                "currency": order.currency,
                "refund_fee": 0,
            },
            "promotion_detail": [],
        }
        if self.status == "SUCCESS" and self.finished_at is not None:
            body["success_time"] = protocol.rfc3339(self.finished_at)
        return body

    def notification(self, amount_delta: int = 0) -> dict[str, Any]:
        """The refund as a callback's resource carries it (``refund_status``, fewer amounts)."""
        order = self.order
        body: dict[str, Any] = {
            "mchid": order.mchid,
            "out_trade_no": order.out_trade_no,
            "transaction_id": order.transaction_id,
            "out_refund_no": self.out_refund_no,
            "refund_id": self.refund_id,
            "refund_status": self.status,
            "user_received_account": self.user_received_account,
            "amount": {
                "total": order.total,
                "refund": self.amount + amount_delta,
                "payer_total": order.total,
                "payer_refund": self.amount + amount_delta,
            },
        }
        if self.status == "SUCCESS" and self.finished_at is not None:
            body["success_time"] = protocol.rfc3339(self.finished_at)
        return body

    def record(self) -> dict[str, Any]:
        """The control API's view, the same shape on every simulator."""
        record: dict[str, Any] = {
            "refund_no": self.out_refund_no,
            "channel_refund_no": self.refund_id,
            "amount": self.amount,
            "status": self.status,
            "created_at": protocol.rfc3339(self.created_at),
        }
        if self.finished_at is not None:
            record["finished_at"] = protocol.rfc3339(self.finished_at)
        return record


def _digits(count: int) -> str:
    return "".join(secrets.choice(string.digits) for _ in range(count))


def new_transaction_id(now: datetime) -> str:
    """28 digits, like ``4200001234202611251234567890``: a prefix, the Beijing date, a sequence."""
    return f"42000{_digits(5)}{now.astimezone(protocol.BEIJING):%Y%m%d}{_digits(10)}"


def new_refund_id(now: datetime) -> str:
    """29 digits, like ``50300701232026112512345678901``: a prefix, the Beijing date, a sequence."""
    return f"50{_digits(5)}{now.astimezone(protocol.BEIJING):%Y%m%d}{_digits(14)}"


def new_prepay_id(now: datetime) -> str:
    return f"wx{now.astimezone(protocol.BEIJING):%Y%m%d%H%M%S}{secrets.token_hex(10)}"


def new_code_url() -> str:
    token = "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(11))
    return f"weixin://wxpay/bizpayurl?pr={token}"


def new_openid() -> str:
    return "o" + "".join(secrets.choice(_OPENID_ALPHABET) for _ in range(27))
