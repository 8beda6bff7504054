"""Operators deciding exception cases: accept a mismatched amount, succeed a late payment, send an
extra capture back, settle a refund the channel left open or contradicted, resume a janitor that
stopped, or settle the case outside Tongbao. Each decision is written with who took it, when and
why, in the transaction that carries it out."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tongbao.cases.domain import CaseDecision, CaseKind, CaseStatus, check_decision
from tongbao.cases.models import CaseAction, ExceptionCase
from tongbao.cases.remedies import refund_capture, reopen_payment
from tongbao.cases.service import lock_case, record_action
from tongbao.container import Container
from tongbao.db.retry import retrying
from tongbao.errors import InvalidRequest, NotFound
from tongbao.jobs import queue
from tongbao.payments.models import Payment, PaymentAttempt
from tongbao.payments.store import load_payment
from tongbao.refunds.domain import RefundProblem, RefundStatus
from tongbao.refunds.models import Refund
from tongbao.refunds.opening import sync_key
from tongbao.refunds.results import settle_by_operator
from tongbao.refunds.store import lock_refund
from tongbao.refunds.submission import submit_refund
from tongbao.rules import InputRefused, RuleBroken

REASON_MAX_LEN = 500


def _reason(value: object) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > REASON_MAX_LEN:
        raise InvalidRequest(
            f"reason is required: why, in at most {REASON_MAX_LEN} characters",
            code="parameter_missing",
            param="reason",
        )
    return value.strip()


async def decide(c: Container, case_id: str, body: dict[str, Any], actor: str) -> None:
    reason = _reason(body.get("reason"))
    refund_id = await retrying(lambda: _carry_out(c, case_id, body, actor, reason))
    if refund_id is not None:
        await submit_refund(c, refund_id)


async def _carry_out(c: Container, case_id: str, body: dict[str, Any], actor: str, reason: str) -> str | None:
    """The decision in one transaction, the payment, refund and case locked; returns the refund it
    opened, if any, for the channel to be asked after the commit."""
    now = c.clock.now()
    refund_id: str | None = None
    async with c.uow() as tx:
        case = await tx.get(ExceptionCase, case_id)
        if case is None:
            raise NotFound("no such exception case", code="case_not_found", param="case_id")
        # The payment, its refund, then the case: the order in db/locks.py.
        payment = await load_payment(tx, case.payment_id, lock=True) if case.payment_id else None
        refund = await lock_refund(tx, case.refund_id) if case.refund_id else None
        case = await lock_case(tx, case_id)
        assert case is not None
        pending = refund is not None and refund.status == RefundStatus.PENDING
        contested = refund is not None and refund.contested_at is not None
        decision = check_decision(case.kind, case.status, body.get("decision"), pending or contested, pending)
        act = _Decision(tx, case, actor, reason, now)
        if decision in (CaseDecision.ACCEPT, CaseDecision.REOPEN):
            assert payment is not None
            await act.take_capture(payment, await _attempt(tx, case), body.get("amount"))
        elif decision is CaseDecision.REFUND:
            assert payment is not None
            refund_id = await act.refund_capture(payment, await _attempt(tx, case))
        elif decision in (CaseDecision.MARK_REFUNDED, CaseDecision.MARK_FAILED):
            assert payment is not None and refund is not None
            await act.settle_refund(payment, refund, succeeded=decision is CaseDecision.MARK_REFUNDED)
        elif decision is CaseDecision.RESUME:
            assert refund is not None
            await act.resume(refund)
        else:
            status = CaseStatus.RESOLVED if decision is CaseDecision.RESOLVE else CaseStatus.DISMISSED
            await act.record(decision.value, status=status, resolution=decision.value)
        await tx.commit()
    return refund_id


async def _attempt(tx: AsyncSession, case: ExceptionCase) -> PaymentAttempt:
    attempt = await tx.get(PaymentAttempt, case.attempt_id) if case.attempt_id else None
    assert attempt is not None
    return attempt


class _Decision:
    """One operator's decision on one case, inside the transaction that carries it out."""

    def __init__(self, tx: AsyncSession, case: ExceptionCase, actor: str, reason: str, now: datetime) -> None:
        self.tx, self.case, self.actor, self.reason, self.now = tx, case, actor, reason, now

    async def record(
        self,
        action: str,
        *,
        status: CaseStatus | None = None,
        resolution: str | None = None,
        detail: dict[str, Any] | None = None,
    ) -> None:
        await record_action(
            self.tx,
            self.case,
            action=action,
            actor=self.actor,
            reason=self.reason,
            now=self.now,
            detail=detail,
            status=status,
            resolution=resolution,
        )

    async def take_capture(self, payment: Payment, attempt: PaymentAttempt, amount: object) -> None:
        if payment.captured_attempt_id is not None:
            raise RuleBroken(
                "payment_already_captured",
                "decision",
                f"payment {payment.id} was captured by {payment.captured_attempt_id}; "
                "refund this capture instead",
            )
        if (
            self.case.kind == CaseKind.AMOUNT_MISMATCH
            and self.case.evidence.get("reported", {}).get("currency") != attempt.currency
        ):
            raise RuleBroken(
                "currency_mismatch",
                "decision",
                "the channel captured another currency; refund it or settle it outside Tongbao",
            )
        await reopen_payment(
            self.tx,
            self.case,
            payment,
            attempt,
            actor=self.actor,
            reason=self.reason,
            now=self.now,
            amount=await self._reported(attempt, amount),
        )

    async def _reported(self, attempt: PaymentAttempt, amount: object) -> int | None:
        """The amount an operator accepts must be one the channel reported for this capture."""
        if amount is None:
            return None
        reported = {attempt.paid_amount} | {
            a.detail.get("amount")
            for a in await self.tx.scalars(
                select(CaseAction).where(
                    CaseAction.case_id == self.case.id, CaseAction.action == "channel_contradicted"
                )
            )
        }
        if type(amount) is not int or amount not in reported:
            choices = ", ".join(str(a) for a in sorted(r for r in reported if isinstance(r, int)))
            raise InputRefused("amount_invalid", "amount", f"amount is one the channel reported: {choices}")
        return amount

    async def refund_capture(self, payment: Payment, attempt: PaymentAttempt) -> str:
        if payment.captured_attempt_id == attempt.id:
            raise RuleBroken(
                "payment_already_captured",
                "decision",
                f"this capture is payment {payment.id}'s own; the merchant refunds it through /v1/refunds",
            )
        try:
            refund = await refund_capture(
                self.tx, self.case, payment, attempt, actor=self.actor, reason=self.reason, now=self.now
            )
        except RefundProblem as problem:
            raise RuleBroken(problem.code, "decision", problem.message) from None
        return refund.id

    async def settle_refund(self, payment: Payment, refund: Refund, *, succeeded: bool) -> None:
        # The case is decided first, so that the refund's own settling finds nothing left to close.
        await self.record(
            CaseDecision.MARK_REFUNDED.value if succeeded else CaseDecision.MARK_FAILED.value,
            status=CaseStatus.RESOLVED,
            resolution="refunded" if succeeded else "failed",
            detail={"refund_id": refund.id, "amount": refund.amount, "currency": refund.currency},
        )
        await settle_by_operator(
            self.tx, payment, refund, succeeded=succeeded, reason=self.reason, now=self.now
        )

    async def resume(self, refund: Refund) -> None:
        await queue.requeue(self.tx, sync_key(refund.id), now=self.now)
        await self.record(CaseDecision.RESUME.value, detail={"refund_id": refund.id})
