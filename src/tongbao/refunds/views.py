"""How a refund looks from outside: the merchant API, the admin API and notifications agree."""

from __future__ import annotations

from typing import Any

from tongbao.payments.views import iso_or_none
from tongbao.refunds.models import Refund


def refund_public(refund: Refund, out_trade_no: str | None = None) -> dict[str, Any]:
    return {
        "id": refund.id,
        "object": "refund",
        "payment_id": refund.payment_id,
        "out_trade_no": out_trade_no,
        "out_refund_no": refund.out_refund_no,
        "amount": refund.amount,
        "currency": refund.currency,
        "status": refund.status,
        "reason": refund.reason,
        # The channel's own words when the money could not go back (e.g. the payer's card is closed).
        "failure_reason": refund.failure_reason,
        "channel": refund.channel,
        "channel_refund_no": refund.channel_refund_no,
        "notify_url": refund.notify_url,
        "created_at": iso_or_none(refund.created_at),
        "finished_at": iso_or_none(refund.finished_at),
    }


def refund_admin(refund: Refund) -> dict[str, Any]:
    """What operators see besides: whose capture it returns, why, and what the channel last said."""
    return {
        **refund_public(refund),
        "kind": refund.kind,
        "merchant_id": refund.merchant_id,
        "attempt_id": refund.attempt_id,
        "case_id": refund.case_id,
        "channel_account_id": refund.channel_account_id,
        "last_error": refund.last_error,
        "submitted_at": iso_or_none(refund.submitted_at),
        "queries_done": refund.queries_done,
    }
