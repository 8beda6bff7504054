"""What a merchant may ask for when creating a refund: every field checked before anything is written."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any

from tongbao.errors import InvalidRequest
from tongbao.merchants.domain.apps import AppRuleBroken, check_notify_url
from tongbao.payments.requests import text_field
from tongbao.refunds import domain

_OUT_REFUND_NO = re.compile(domain.OUT_REFUND_NO_PATTERN)
KNOWN_FIELDS = frozenset({"payment_id", "out_trade_no", "out_refund_no", "amount", "reason", "notify_url"})


@dataclass(frozen=True)
class NewRefund:
    payment_id: str | None
    out_trade_no: str | None
    out_refund_no: str
    amount: int
    reason: str | None
    notify_url: str | None

    def fingerprint(self, payment_id: str) -> str:
        """Over the payment it names, not how it was named: by id or by out_trade_no is the same refund."""
        fields = {
            "payment_id": payment_id,
            "out_refund_no": self.out_refund_no,
            "amount": self.amount,
            "reason": self.reason,
            "notify_url": self.notify_url,
        }
        return hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()


def parse_new_refund(body: dict[str, Any]) -> NewRefund:
    for name in body:
        if name not in KNOWN_FIELDS:
            raise InvalidRequest(f"unknown field {name!r}", code="parameter_unknown", param=name)
    payment_id = text_field(body, "payment_id", max_len=40)
    out_trade_no = text_field(body, "out_trade_no", max_len=64)
    if (payment_id is None) == (out_trade_no is None):
        raise InvalidRequest(
            "name the payment by payment_id or by out_trade_no (one of them)",
            code="parameter_missing" if payment_id is None else "parameter_invalid",
            param="payment_id",
        )
    out_refund_no = text_field(body, "out_refund_no", max_len=64, required=True)
    assert out_refund_no is not None
    if not _OUT_REFUND_NO.fullmatch(out_refund_no):
        raise InvalidRequest(
            "out_refund_no is 1-64 characters of A-Z a-z 0-9 _ - | * . :", param="out_refund_no"
        )
    if "amount" not in body:
        raise InvalidRequest("amount is required", code="parameter_missing", param="amount")
    amount = body["amount"]
    if type(amount) is not int or amount <= 0:
        raise InvalidRequest(
            "amount is a positive integer of minor units (fen)", code="amount_invalid", param="amount"
        )
    reason = text_field(body, "reason", max_len=domain.REASON_MAX_LEN)
    notify_url = text_field(body, "notify_url", max_len=1024)
    if notify_url:
        try:
            check_notify_url(notify_url)
        except AppRuleBroken as problem:
            raise InvalidRequest(str(problem), param=problem.param) from None
    return NewRefund(payment_id, out_trade_no, out_refund_no, amount, reason, notify_url)
