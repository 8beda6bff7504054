"""Refund use cases for merchants: create (full, partial, several), look up.

The refund is written under the payment's row lock (see ``opening``), committed, and only then is
the channel asked, outside any transaction. The answer, or the janitor's later query, settles it.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from tongbao.channels.kinds import Channel
from tongbao.container import Container
from tongbao.db.merchant_numbers import earlier_request
from tongbao.db.retry import retrying
from tongbao.errors import Conflict, NotFound
from tongbao.merchants.app_service import Caller
from tongbao.payments.domain import PaymentStatus
from tongbao.payments.models import Payment, PaymentAttempt
from tongbao.payments.store import load_payment
from tongbao.refunds import domain
from tongbao.refunds.domain import RefundKind, RefundProblem
from tongbao.refunds.models import Refund
from tongbao.refunds.opening import MerchantAsked, open_refund
from tongbao.refunds.requests import NewRefund, new_refund
from tongbao.refunds.schemas import RefundCreate
from tongbao.refunds.store import notify_url_of
from tongbao.refunds.submission import submit_refund
from tongbao.refunds.views import refund_public

# The merchant's request asks the channel at once; the janitor steps in only if that goes astray.
FIRST_SYNC_IN: Final = timedelta(minutes=1)


async def refunds_of(tx: AsyncSession, payment_id: str) -> list[Refund]:
    """The merchant's refunds of a payment, oldest first (Tongbao's own returns of extra captures are
    operators' business)."""
    rows = await tx.scalars(
        select(Refund)
        .where(Refund.payment_id == payment_id, Refund.kind == RefundKind.MERCHANT.value)
        .order_by(Refund.id)
    )
    return list(rows)


async def _earlier(tx: AsyncSession, app_id: str, number: str, fingerprint: str) -> str | None:
    return await earlier_request(
        tx, Refund, "out_refund_no", app_id=app_id, number=number, fingerprint=fingerprint, what="refund"
    )


class RefundService:
    def __init__(self, c: Container) -> None:
        self.c = c

    async def view(self, refund_id: str, merchant_id: str) -> dict[str, Any]:
        async with self.c.uow() as tx:
            refund = await tx.scalar(
                select(Refund).where(
                    Refund.id == refund_id,
                    Refund.merchant_id == merchant_id,
                    Refund.kind == RefundKind.MERCHANT.value,
                )
            )
            if refund is None:
                raise NotFound("no such refund", code="refund_not_found", param="refund_id")
            payment = await load_payment(tx, refund.payment_id)
            notify_url = await notify_url_of(tx, refund, payment)
        return refund_public(refund, payment.out_trade_no, notify_url=notify_url)

    async def view_by_out_refund_no(
        self, app_id: str, merchant_id: str, out_refund_no: str
    ) -> dict[str, Any]:
        async with self.c.uow() as tx:
            refund_id = await tx.scalar(
                select(Refund.id).where(Refund.app_id == app_id, Refund.out_refund_no == out_refund_no)
            )
        if refund_id is None:
            raise NotFound(
                "no refund with this out_refund_no", code="refund_not_found", param="out_refund_no"
            )
        return await self.view(refund_id, merchant_id)

    async def create(self, caller: Caller, request: RefundCreate) -> tuple[dict[str, Any], bool]:
        """Returns the refund and whether it was created now (False: the same request came before)."""
        new = new_refund(request)
        existing, refund = await retrying(lambda: self._write(caller, new))
        if existing is not None:
            return await self.view(existing, caller.merchant.id), False
        assert refund is not None
        await submit_refund(self.c, refund.id)
        return await self.view(refund.id, caller.merchant.id), True

    async def _write(self, caller: Caller, new: NewRefund) -> tuple[str | None, Refund | None]:
        """The refund written under its payment's lock, or the earlier request it repeats."""
        existing: str | None = None
        refund: Refund | None = None
        async with self.c.uow() as tx:
            payment_id = await self._payment_id(tx, caller, new)
            fingerprint = new.fingerprint(payment_id)
            existing = await _earlier(tx, caller.app.id, new.out_refund_no, fingerprint)
            if existing is None:
                # Asked again under the payment's lock: an identical request that held it before us
                # has committed its refund by now, and this one is its replay, not a second refund.
                payment = await load_payment(tx, payment_id, lock=True)
                existing = await _earlier(tx, caller.app.id, new.out_refund_no, fingerprint)
            if existing is None:
                refund = await self._insert(tx, caller, payment, new, fingerprint)
                if refund is None:  # lost a race to an identical request
                    existing = await _earlier(tx, caller.app.id, new.out_refund_no, fingerprint)
                    if existing is None:
                        raise Conflict("out_refund_no is being used right now", code="out_refund_no_reused")
                else:
                    await tx.commit()
        return existing, refund

    async def _payment_id(self, tx: AsyncSession, caller: Caller, new: NewRefund) -> str:
        if new.payment_id is not None:
            found = await tx.scalar(
                select(Payment.id).where(
                    Payment.id == new.payment_id, Payment.merchant_id == caller.merchant.id
                )
            )
            param = "payment_id"
        else:
            found = await tx.scalar(
                select(Payment.id).where(
                    Payment.app_id == caller.app.id, Payment.out_trade_no == new.out_trade_no
                )
            )
            param = "out_trade_no"
        if found is None:
            raise NotFound("no such payment", code="payment_not_found", param=param)
        return str(found)

    async def _insert(
        self, tx: AsyncSession, caller: Caller, payment: Payment, new: NewRefund, fingerprint: str
    ) -> Refund | None:
        """The caller holds the payment's row lock."""
        now = self.c.clock.now()
        try:
            if payment.captured_attempt_id is None or payment.succeeded_at is None or not payment.channel:
                raise RefundProblem(
                    "payment_not_refundable", "payment_id", f"a {payment.status} payment cannot be refunded"
                )
            domain.check_refundable(
                PaymentStatus(payment.status), Channel(payment.channel), payment.succeeded_at, now
            )
            attempt = await tx.get(PaymentAttempt, payment.captured_attempt_id)
            assert attempt is not None
            refund = await open_refund(
                tx,
                payment=payment,
                attempt=attempt,
                amount=new.amount,
                kind=RefundKind.MERCHANT,
                now=now,
                first_sync_in=FIRST_SYNC_IN,
                reason=new.reason,
                asked=MerchantAsked(caller.app.id, new.out_refund_no, new.notify_url, fingerprint),
            )
        except IntegrityError:
            await tx.rollback()
            return None
        return refund
