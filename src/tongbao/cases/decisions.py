"""Operators deciding exception cases: accept a mismatched amount, succeed a late payment, send an
extra capture back, or settle the case outside Tongbao. Each decision is written with who took it,
when and why, in the transaction that carries it out."""

from __future__ import annotations

from typing import Any

from tongbao.bootstrap import Container
from tongbao.cases.domain import CaseDecision, CaseKind, CaseProblem, CaseStatus, check_decision
from tongbao.cases.models import ExceptionCase
from tongbao.cases.service import record_action
from tongbao.errors import Conflict, InvalidRequest, NotFound
from tongbao.payments.captures import refund_capture, reopen_payment
from tongbao.payments.models import PaymentAttempt
from tongbao.payments.store import load_payment
from tongbao.refunds.domain import RefundProblem, RefundStatus
from tongbao.refunds.models import Refund
from tongbao.refunds.submission import submit_refund

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
    now = c.clock.now()
    refund_id: str | None = None
    async with c.uow() as tx:
        case = await tx.get(ExceptionCase, case_id)
        if case is None:
            raise NotFound("no such exception case", code="case_not_found", param="case_id")
        # The payment first, then the case: the order every writer of a payment's money uses.
        payment = await load_payment(tx, case.payment_id, lock=True) if case.payment_id else None
        case = await tx.get(ExceptionCase, case_id, with_for_update=True, populate_existing=True)
        assert case is not None
        refund = await tx.get(Refund, case.refund_id) if case.refund_id else None
        try:
            decision = check_decision(
                case.kind,
                case.status,
                body.get("decision"),
                refund is not None and refund.status == RefundStatus.PENDING,
            )
        except CaseProblem as problem:
            error = InvalidRequest if problem.code == "decision_invalid" else Conflict
            raise error(str(problem), code=problem.code, param=problem.param) from None
        attempt = await tx.get(PaymentAttempt, case.attempt_id) if case.attempt_id else None
        if decision in (CaseDecision.ACCEPT, CaseDecision.REOPEN):
            assert payment is not None and attempt is not None
            if payment.captured_attempt_id is not None:
                raise Conflict(
                    f"payment {payment.id} was captured by {payment.captured_attempt_id}; "
                    "refund this capture instead",
                    code="payment_already_captured",
                    param="decision",
                )
            if (
                case.kind == CaseKind.AMOUNT_MISMATCH
                and case.evidence.get("reported", {}).get("currency") != attempt.currency
            ):
                raise Conflict(
                    "the channel captured another currency; refund it or settle it outside Tongbao",
                    code="currency_mismatch",
                    param="decision",
                )
            await reopen_payment(tx, case, payment, attempt, actor=actor, reason=reason, now=now)
        elif decision is CaseDecision.REFUND:
            assert payment is not None and attempt is not None
            if payment.captured_attempt_id == attempt.id:
                raise Conflict(
                    f"this capture is payment {payment.id}'s own; the merchant refunds it through "
                    "/v1/refunds",
                    code="payment_already_captured",
                    param="decision",
                )
            try:
                refund_id = (
                    await refund_capture(tx, case, payment, attempt, actor=actor, reason=reason, now=now)
                ).id
            except RefundProblem as problem:
                raise Conflict(str(problem), code=problem.code, param="decision") from None
        else:
            status = CaseStatus.RESOLVED if decision is CaseDecision.RESOLVE else CaseStatus.DISMISSED
            await record_action(
                tx,
                case,
                action=decision.value,
                actor=actor,
                reason=reason,
                now=now,
                status=status,
                resolution=decision.value,
            )
        await tx.commit()
    if refund_id is not None:
        await submit_refund(c, refund_id)
