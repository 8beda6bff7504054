"""How a refund looks from outside: the merchant API, the admin API and notifications agree."""

from __future__ import annotations

from typing import Any

from tongbao.merchants.models import App
from tongbao.payments.models import Payment
from tongbao.payments.views import iso_or_none
from tongbao.refunds.domain import RefundKind
from tongbao.refunds.models import Refund


def notify_url_for(refund: Refund, payment: Payment, app: App | None) -> str | None:
    """Where the refund's notification goes: its own URL, else the payment's, else the app's.
    Tongbao's own refunds (of captures the merchant never owned) are told to nobody."""
    if refund.kind != RefundKind.MERCHANT:
        return None
    return refund.notify_url or payment.notify_url or (app.notify_url if app else None)


def refund_public(
    refund: Refund, out_trade_no: str | None = None, *, notify_url: str | None = None
) -> dict[str, Any]:
    """``notify_url``: the effective one (``notify_url_for``); without it, the refund's own."""
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
        "notify_url": notify_url or refund.notify_url,
        "created_at": iso_or_none(refund.created_at),
        "finished_at": iso_or_none(refund.finished_at),
    }


def refund_admin(
    refund: Refund, out_trade_no: str | None = None, *, notify_url: str | None = None
) -> dict[str, Any]:
    """What operators see besides: whose capture it returns, why, and what the channel last said."""
    return {
        **refund_public(refund, out_trade_no, notify_url=notify_url),
        "kind": refund.kind,
        "merchant_id": refund.merchant_id,
        "attempt_id": refund.attempt_id,
        "case_id": refund.case_id,
        "channel_account_id": refund.channel_account_id,
        "last_error": refund.last_error,
        "submitted_at": iso_or_none(refund.submitted_at),
        "queries_done": refund.queries_done,
    }
