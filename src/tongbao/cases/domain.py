"""Exception-case rules: the kinds, what an operator may do with each, and where each decision leads.
Plain Python, no I/O.

A case goes ``open → resolved | dismissed`` and never back. A refund decision keeps the case open
until the channel has sent the money back (``refund_pending``); a refund that fails leaves it open
for the next decision.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Final, Protocol

from tongbao.rules import InputRefused, RuleBroken


class CaseKind(StrEnum):
    AMOUNT_MISMATCH = "amount_mismatch"  # the channel captured another amount or currency
    DUPLICATE_PAYMENT = "duplicate_payment"  # a second capture of a payment already captured
    LATE_SUCCESS = "late_success"  # a capture of a payment we had closed
    REFUND_FAILED = "refund_failed"  # the channel could not send a refund back (card closed …)
    REFUND_MISMATCH = "refund_mismatch"  # the channel reports a refund of another amount than asked
    REFUND_OVERDUE = "refund_overdue"  # a day of asking and the channel still has no final word
    REFUND_CONTRADICTED = "refund_contradicted"  # reported succeeded after it had failed
    LEDGER_REFUSED = "ledger_refused"  # the ledger refused what a payment or refund did: rolled back


class CaseStatus(StrEnum):
    OPEN = "open"
    RESOLVED = "resolved"
    DISMISSED = "dismissed"


class CaseDecision(StrEnum):
    ACCEPT = "accept"  # amount mismatch: the payment succeeds with the amount the channel captured
    REFUND = "refund"  # send the extra or mismatched capture back to the payer
    REOPEN = "reopen"  # late success: the payment succeeds after all
    RESOLVE = "resolve"  # handled outside Tongbao (e.g. the payer was paid back by bank transfer)
    DISMISS = "dismiss"  # nothing to do
    # A refund the channel left open or contradicted, settled on the channel's statement:
    MARK_REFUNDED = "mark_refunded"  # the money went back: the refund succeeds with its amount
    MARK_FAILED = "mark_failed"  # it did not: the refund fails and its amount may be refunded again
    RESUME = "resume"  # the janitor stopped asking the channel about the refund: ask again


DECISIONS: Final[dict[CaseKind, frozenset[CaseDecision]]] = {
    CaseKind.AMOUNT_MISMATCH: frozenset({CaseDecision.ACCEPT, CaseDecision.REFUND, CaseDecision.DISMISS}),
    CaseKind.DUPLICATE_PAYMENT: frozenset({CaseDecision.REFUND, CaseDecision.RESOLVE, CaseDecision.DISMISS}),
    CaseKind.LATE_SUCCESS: frozenset({CaseDecision.REOPEN, CaseDecision.REFUND, CaseDecision.DISMISS}),
    CaseKind.REFUND_FAILED: frozenset({CaseDecision.RESOLVE, CaseDecision.DISMISS}),
    CaseKind.REFUND_MISMATCH: frozenset(
        {CaseDecision.MARK_REFUNDED, CaseDecision.MARK_FAILED, CaseDecision.RESOLVE, CaseDecision.DISMISS}
    ),
    CaseKind.REFUND_OVERDUE: frozenset(
        {
            CaseDecision.MARK_REFUNDED,
            CaseDecision.MARK_FAILED,
            CaseDecision.RESUME,
            CaseDecision.RESOLVE,
            CaseDecision.DISMISS,
        }
    ),
    CaseKind.REFUND_CONTRADICTED: frozenset({CaseDecision.MARK_REFUNDED, CaseDecision.MARK_FAILED}),
    CaseKind.LEDGER_REFUSED: frozenset({CaseDecision.RESOLVE, CaseDecision.DISMISS}),
}
# Cases about a refund itself (not one that returns a capture): their refund is open by definition.
REFUND_KINDS: Final = frozenset(
    {CaseKind.REFUND_MISMATCH, CaseKind.REFUND_OVERDUE, CaseKind.REFUND_CONTRADICTED}
)
# Decisions that settle or move an open refund; the others need it final first.
ON_OPEN_REFUND: Final = frozenset({CaseDecision.MARK_REFUNDED, CaseDecision.MARK_FAILED, CaseDecision.RESUME})

# The state a decision leaves the case in; REFUND waits for the channel.
OUTCOME: Final[dict[CaseDecision, CaseStatus]] = {
    CaseDecision.ACCEPT: CaseStatus.RESOLVED,
    CaseDecision.REFUND: CaseStatus.OPEN,
    CaseDecision.REOPEN: CaseStatus.RESOLVED,
    CaseDecision.RESOLVE: CaseStatus.RESOLVED,
    CaseDecision.DISMISS: CaseStatus.DISMISSED,
    CaseDecision.MARK_REFUNDED: CaseStatus.RESOLVED,
    CaseDecision.MARK_FAILED: CaseStatus.RESOLVED,
    CaseDecision.RESUME: CaseStatus.OPEN,
}


class CaseProblem(RuleBroken):
    """A decision the case cannot take (409)."""


class DecisionInvalid(InputRefused):
    """A decision the case's kind never takes (400)."""


def check_decision(
    kind: str, status: str, decision: object, refund_open: bool, refund_pending: bool = False
) -> CaseDecision:
    """``refund_open``: the case's refund has no final word (pending, or contested);
    ``refund_pending``: it is pending at the channel (the janitor can be resumed)."""
    try:
        chosen = CaseDecision(decision) if isinstance(decision, str) else None
    except ValueError:
        chosen = None
    allowed = DECISIONS.get(CaseKind(kind), frozenset()) if kind in set(CaseKind) else frozenset()
    if chosen is None or chosen not in allowed:
        names = ", ".join(sorted(d.value for d in allowed)) or "none"
        raise DecisionInvalid("decision_invalid", "decision", f"a {kind} case takes one of: {names}")
    if status != CaseStatus.OPEN:
        raise CaseProblem("case_closed", None, f"the case is {status}; its decisions are final")
    if CaseKind(kind) in REFUND_KINDS:
        if chosen in ON_OPEN_REFUND and not refund_open:
            raise CaseProblem("refund_final", "decision", "the refund has its final word already")
        if chosen is CaseDecision.RESUME and not refund_pending:
            raise CaseProblem("refund_final", "decision", "the refund is not pending at the channel")
        if chosen not in ON_OPEN_REFUND and refund_open:
            raise CaseProblem(
                "refund_in_progress",
                "decision",
                "the refund has no final word yet: settle it with mark_refunded or mark_failed",
            )
    elif refund_open:
        raise CaseProblem("refund_in_progress", None, "a refund for this case is still with the channel")
    return chosen


class CaseRecord(Protocol):
    status: str
    resolution: str | None
    updated_at: datetime


def settle_case(case: CaseRecord, status: CaseStatus | None, resolution: str | None, now: datetime) -> None:
    """Where a decision or the channel's word leaves the case: ``open → resolved | dismissed``,
    never back; ``resolution`` says how (it may change while the case stays open)."""
    if status is not None and status is not CaseStatus.OPEN:
        if case.status != CaseStatus.OPEN:
            raise CaseProblem("case_closed", None, f"the case is {case.status}; its decisions are final")
        case.status = status.value
    if resolution is not None:
        case.resolution = resolution
    case.updated_at = now
