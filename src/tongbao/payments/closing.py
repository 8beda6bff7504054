"""Closing payments: at the merchant's request, or when they expire.

Each open attempt is closed at its channel first and then asked for its state, because the payer
may have paid a moment before: a close that reveals a payment succeeds it instead. Only when every
attempt is known to be closed is the payment marked closed, under its row lock.
"""

from __future__ import annotations

from typing import Any

from tongbao.channels.base import ChannelUnknownOutcome, OrderAlreadyPaid, OrderState
from tongbao.container import Container
from tongbao.db.retry import retrying
from tongbao.db.uow import publish
from tongbao.errors import ChannelUnavailable
from tongbao.merchants.models import ChannelAccount
from tongbao.payments import domain
from tongbao.payments.captures import notify_merchant
from tongbao.payments.domain import AttemptStatus, PaymentStatus
from tongbao.payments.models import PaymentAttempt
from tongbao.payments.results import apply_status
from tongbao.payments.store import attempts_of, load_payment


async def close_attempt(c: Container, attempt_id: str) -> OrderState | None:
    """Closes one attempt at its channel; returns the state it ended in (None: not known yet)."""
    async with c.uow() as tx:
        attempt = await tx.get(PaymentAttempt, attempt_id)
        assert attempt is not None
        account = await tx.get(ChannelAccount, attempt.channel_account_id)
        assert account is not None
    if attempt.status != AttemptStatus.PENDING:
        return None
    adapter = c.channels.adapter(account.adapter_config())
    try:
        try:
            await adapter.close(attempt.id)
        except OrderAlreadyPaid:
            pass  # the query below brings the payment in
        status = await adapter.query(attempt.id)
    except ChannelUnknownOutcome:
        return None
    if status.state is OrderState.NOT_FOUND:
        # Creation never reached the channel: nothing there can be paid any more.
        status = type(status)(order_no=attempt.id, state=OrderState.CLOSED)
    if status.state in (OrderState.NOT_PAID, OrderState.PAYING):
        return None  # the close did not take (yet): try again later
    await apply_status(c, attempt.id, status, source="close")
    return status.state


async def close_payment(
    c: Container, payment_id: str, *, merchant_id: str | None, reason: str
) -> dict[str, Any]:
    """Returns the payment's status afterwards. Raises ChannelUnavailable when a channel could not confirm."""
    async with c.uow() as tx:
        payment = await load_payment(tx, payment_id, merchant_id)
        attempts = await attempts_of(tx, payment_id)
    if payment.status == PaymentStatus.CLOSED:
        return {"status": payment.status}
    if payment.status != PaymentStatus.PENDING:
        raise domain.PaymentNotOpen(payment.status)
    for attempt in attempts:
        if attempt.status == AttemptStatus.PENDING:
            await close_attempt(c, attempt.id)
    return await retrying(lambda: _mark_closed(c, payment_id, reason))


async def _mark_closed(c: Container, payment_id: str, reason: str) -> dict[str, Any]:
    """Under the payment's lock: closed if every attempt is, else why not."""
    now = c.clock.now()
    async with c.uow() as tx:
        payment = await load_payment(tx, payment_id, lock=True)
        if payment.status != PaymentStatus.PENDING:
            return {"status": payment.status}  # a capture came in while closing
        statuses = {a.status for a in await attempts_of(tx, payment_id)}
        if payment.held_since is not None:
            # Money is held at the channel under another amount: an operator settles this payment.
            raise domain.UnderReview()
        # Still open: its channel did not confirm the close, or the payer opened it meanwhile. (One
        # that another worker settled while we were at it is not open any more, whatever it said.)
        if AttemptStatus.PENDING in statuses:
            raise ChannelUnavailable("the channel could not confirm the close; try again shortly")
        publish(tx, domain.close(payment, now))
        await tx.flush()
        await notify_merchant(tx, payment, "payment.closed", now)
        await tx.commit()
    return {"status": PaymentStatus.CLOSED.value, "reason": reason}
