"""How a payment looks from outside: the merchant API, the admin API and notifications agree."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from tongbao.payments.models import Payment, PaymentAttempt
from tongbao.timestamps import instant_or_none


def iso_or_none(moment: datetime | None) -> str | None:
    return instant_or_none(moment)


def attempt_public(attempt: PaymentAttempt) -> dict[str, Any]:
    return {
        "id": attempt.id,
        "channel_order_no": attempt.id,
        "method": attempt.method,
        "channel": attempt.channel,
        "channel_account_id": attempt.channel_account_id,
        "account_mode": attempt.account_mode,
        "status": attempt.status,
        "channel_trade_no": attempt.channel_trade_no,
        # What went wrong at the channel last, if anything (a refusal, a timeout, a mismatch).
        "error": attempt.last_error,
        "created_at": iso_or_none(attempt.created_at),
        "finished_at": iso_or_none(attempt.finished_at),
    }


def payment_public(
    payment: Payment,
    attempts: list[PaymentAttempt],
    action: dict[str, Any] | None,
    refunds: list[dict[str, Any]] | None = None,
    *,
    refundable: int,
) -> dict[str, Any]:
    return {
        "id": payment.id,
        "object": "payment",
        "out_trade_no": payment.out_trade_no,
        "status": payment.status,
        "amount": payment.amount,
        "currency": payment.currency,
        # What the channel captured, and how much of it has gone back (succeeded refunds).
        "captured_amount": payment.captured_amount,
        "refunded_amount": payment.refunded_amount,
        "refundable_amount": refundable,
        "subject": payment.subject,
        "method": payment.method,
        "channel": payment.channel,
        "account_mode": payment.account_mode,
        "channel_trade_no": payment.channel_trade_no,
        "captured_attempt_id": payment.captured_attempt_id,
        "action": action,
        "notify_url": payment.notify_url,
        "return_url": payment.return_url,
        "metadata": payment.extra,
        "expires_at": iso_or_none(payment.expires_at),
        "created_at": iso_or_none(payment.created_at),
        "succeeded_at": iso_or_none(payment.succeeded_at),
        "closed_at": iso_or_none(payment.closed_at),
        "attempts": [attempt_public(a) for a in attempts],
        "refunds": refunds or [],
    }


def unrefunded(payment: Payment) -> int:
    """What of the payment's capture has not gone back (pending refunds not counted)."""
    if payment.captured_amount is None:
        return 0
    return payment.captured_amount - payment.refunded_amount
