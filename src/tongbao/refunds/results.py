"""Applying what a channel says about a refund, exactly once, whoever says it first.

The submit's answer, the janitor's query and the channel's refund callback all end here. The payment
row is locked before the refund (the order every writer uses), the transition is checked, and the
change, the payment's new state and the merchant's notification are written in one transaction,
with whatever the refund's events trigger (``tongbao.bootstrap``: exception cases settled or
opened). Hearing the same result again changes nothing.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from tongbao.channels.base import RefundResult, RefundState
from tongbao.container import Container
from tongbao.db.retry import retrying
from tongbao.db.uow import publish
from tongbao.events import DomainEvent
from tongbao.merchants.models import App
from tongbao.notify.events import record_event
from tongbao.payments import domain as payment_domain
from tongbao.payments.models import Payment
from tongbao.payments.store import load_payment
from tongbao.refunds import domain
from tongbao.refunds.domain import RefundKind, RefundStatus
from tongbao.refunds.models import Refund
from tongbao.refunds.store import lock_refund
from tongbao.refunds.views import notify_url_for, refund_public

log = structlog.get_logger(__name__)

OPERATOR = "operator"


class RefundApplied(StrEnum):
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    UNCHANGED = "unchanged"  # still processing, or a repeat of what we know


async def apply_refund_result(
    c: Container, refund_id: str, result: RefundResult, source: str
) -> RefundApplied:
    return await retrying(lambda: _apply_once(c, refund_id, result, source))


async def _apply_once(c: Container, refund_id: str, result: RefundResult, source: str) -> RefundApplied:
    now = c.clock.now()
    async with c.uow() as tx:
        refund = await tx.get(Refund, refund_id)
        if refund is None:
            raise LookupError(refund_id)
        payment = await load_payment(tx, refund.payment_id, lock=True)
        refund = await lock_refund(tx, refund_id)
        assert refund is not None
        applied = await _apply(tx, payment, refund, result, source=source, now=now)
        await tx.commit()
    return applied


async def _apply(
    tx: AsyncSession, payment: Payment, refund: Refund, result: RefundResult, *, source: str, now: datetime
) -> RefundApplied:
    if result.channel_refund_no and not refund.channel_refund_no:
        refund.channel_refund_no = result.channel_refund_no
        refund.updated_at = now
    if result.state not in (RefundState.SUCCEEDED, RefundState.FAILED):
        return RefundApplied.UNCHANGED
    succeeded = result.state is RefundState.SUCCEEDED
    evidence: dict[str, Any] = {
        "source": source,
        "channel_result": dict(result.raw),
        "state": result.state.value,
    }
    if refund.status != RefundStatus.PENDING:
        if refund.status == RefundStatus.FAILED and succeeded:
            # Reported succeeded after it failed: reserved again, and operators decide.
            publish(tx, domain.contest(refund, now, evidence))
        elif refund.status != (RefundStatus.SUCCEEDED if succeeded else RefundStatus.FAILED):
            log.error("channel contradicts a final refund", refund_id=refund.id, ours=refund.status)
        return RefundApplied.UNCHANGED
    if succeeded and result.amount is not None and result.amount != refund.amount:
        # Neither figure is believed over the other: it stays pending and operators see both.
        publish(tx, domain.dispute(refund, result.amount, now, evidence))
        return RefundApplied.UNCHANGED
    if succeeded:
        await _succeeded(tx, payment, refund, domain.succeed(refund, now, evidence=evidence), now)
        return RefundApplied.SUCCEEDED
    reason = result.failure_reason or "the channel refused the refund"
    await _failed(tx, payment, refund, domain.fail(refund, reason, now, evidence=evidence), now)
    return RefundApplied.FAILED


async def _succeeded(
    tx: AsyncSession, payment: Payment, refund: Refund, events: list[DomainEvent], now: datetime
) -> None:
    publish(tx, events)
    if refund.kind == RefundKind.MERCHANT:
        publish(
            tx,
            payment_domain.apply_refund(
                payment, refund_id=refund.id, amount=refund.amount, currency=refund.currency, now=now
            ),
        )
        await _notify(tx, payment, refund, "refund.succeeded", now)


async def _failed(
    tx: AsyncSession, payment: Payment, refund: Refund, events: list[DomainEvent], now: datetime
) -> None:
    publish(tx, events)
    if refund.kind == RefundKind.MERCHANT:
        await _notify(tx, payment, refund, "refund.failed", now)


async def settle_by_operator(
    tx: AsyncSession, payment: Payment, refund: Refund, *, succeeded: bool, reason: str, now: datetime
) -> None:
    """An operator's word on a refund the channel left open or contradicted (they checked the
    channel's statement): it succeeds or fails with its own amount, as a channel's word would. The
    caller holds the payment's row lock."""
    if refund.contested_at is not None:
        # Recorded failed, reported succeeded: the one correction of a final refund, by a person.
        events = domain.settle_contest(refund, succeeded=succeeded, now=now, by=OPERATOR)
        if succeeded:
            await _succeeded(tx, payment, refund, events, now)
        else:
            publish(tx, events)
        return
    if succeeded:
        await _succeeded(tx, payment, refund, domain.succeed(refund, now, by=OPERATOR), now)
        return
    failed = domain.fail(refund, f"an operator found it did not go back: {reason}", now, by=OPERATOR)
    await _failed(tx, payment, refund, failed, now)


async def _notify(tx: AsyncSession, payment: Payment, refund: Refund, event_type: str, now: datetime) -> None:
    app = await tx.get(App, payment.app_id)
    assert app is not None
    notify_url = notify_url_for(refund, payment, app)
    await record_event(
        tx,
        type=event_type,
        merchant_id=payment.merchant_id,
        app_id=payment.app_id,
        data=refund_public(refund, payment.out_trade_no, notify_url=notify_url),
        notify_url=notify_url,
        now=now,
        payment_id=payment.id,
    )
