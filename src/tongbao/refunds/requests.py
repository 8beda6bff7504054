"""A refund as asked for, checked field by field by ``RefundCreate`` before anything is written."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from tongbao.refunds.schemas import RefundCreate


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


def new_refund(request: RefundCreate) -> NewRefund:
    return NewRefund(
        request.payment_id,
        request.out_trade_no,
        request.out_refund_no,
        request.amount,
        request.reason,
        request.notify_url,
    )
