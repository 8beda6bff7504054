"""Captures: a payment taking one, and the captures it cannot take (duplicate, late, mismatched).

``capture_payment`` is the one way a payment becomes succeeded: on time, late (a closed payment the
payer paid at the last second) or after an operator accepted another amount. Extra and mismatched
captures are recorded on their attempt and published as events; what they lead to (an exception
case, the merchant's exception policy) is decided by the handlers wired in ``tongbao.bootstrap``,
in the same transaction. Everything here runs inside the caller's transaction, with the payment row
locked.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from tongbao.channels.base import OrderStatus
from tongbao.db.uow import publish
from tongbao.jobs.payloads import schedule
from tongbao.merchants.models import App
from tongbao.notify.events import record_event
from tongbao.payments import domain
from tongbao.payments.domain import AttemptStatus
from tongbao.payments.job_payloads import CloseAttempt
from tongbao.payments.models import Payment, PaymentAttempt
from tongbao.payments.store import attempts_of
from tongbao.payments.views import payment_public, unrefunded


async def notify_merchant(tx: AsyncSession, payment: Payment, event_type: str, now: datetime) -> None:
    app = await tx.get(App, payment.app_id)
    assert app is not None
    attempts = await attempts_of(tx, payment.id)
    await record_event(
        tx,
        type=event_type,
        merchant_id=payment.merchant_id,
        app_id=payment.app_id,
        # A payment that has just succeeded or closed has no refunds of its capture yet.
        data=payment_public(payment, attempts, None, refundable=unrefunded(payment)),
        notify_url=payment.notify_url or app.notify_url,
        now=now,
        payment_id=payment.id,
    )


async def capture_payment(
    tx: AsyncSession,
    payment: Payment,
    attempt: PaymentAttempt,
    *,
    amount: int,
    channel_trade_no: str | None,
    now: datetime,
    late: bool = False,
    evidence: dict[str, Any] | None = None,
) -> None:
    """The payment takes this attempt's capture, tells the merchant, and closes its other attempts."""
    publish(
        tx,
        domain.capture(
            payment,
            attempt,
            amount=amount,
            channel_trade_no=channel_trade_no,
            now=now,
            late=late,
            evidence=evidence,
        ),
    )
    await tx.flush()
    await notify_merchant(tx, payment, "payment.succeeded", now)
    # Other attempts still open at their channels are closed so that the payer cannot pay twice.
    for other in await attempts_of(tx, payment.id):
        if other.id != attempt.id and other.status == AttemptStatus.PENDING:
            await schedule(tx, CloseAttempt(other.id), now=now)


def extra_capture(
    tx: AsyncSession,
    payment: Payment,
    attempt: PaymentAttempt,
    *,
    amount: int,
    evidence: dict[str, Any],
    now: datetime,
) -> None:
    """A capture the payment cannot simply take: a second one, or one after the payment closed."""
    publish(tx, domain.extra_capture(payment, attempt, amount=amount, evidence=evidence, now=now))


def mismatched_capture(
    tx: AsyncSession,
    payment: Payment,
    attempt: PaymentAttempt,
    status: OrderStatus,
    *,
    evidence: dict[str, Any],
    now: Any,
) -> None:
    """The channel captured another amount or currency than asked: the payment is held for review."""
    publish(
        tx,
        domain.hold_for_review(
            payment,
            attempt,
            amount=status.amount,
            currency=status.currency,
            channel_trade_no=status.channel_trade_no,
            evidence=evidence,
            now=now,
        ),
    )


def contradicted_capture(
    tx: AsyncSession,
    payment: Payment,
    attempt: PaymentAttempt,
    status: OrderStatus,
    *,
    evidence: dict[str, Any],
    now: Any,
) -> None:
    """A mismatched attempt the channel now reports with the amount asked for. Both reports are the
    channel's own, verified, so neither is believed over the other: the payment stays held and the
    review keeps both for an operator, who knows from the channel's statement which was right."""
    assert status.amount is not None and status.currency is not None
    publish(
        tx,
        domain.contradict(
            payment, attempt, amount=status.amount, currency=status.currency, evidence=evidence, now=now
        ),
    )
