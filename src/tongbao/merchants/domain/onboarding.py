"""The merchant review workflow.

    draft ──submit──▶ submitted ──approve──▶ approved ──activate──▶ active ◀──reinstate── suspended
      ▲                   │                                            │                     ▲
      └──(edit)── rejected ◀──reject(reason)                           └──────suspend(reason)┘
                  rejected ──submit──▶ submitted  (after fixing what the reviewer asked for)

Only an ``active`` merchant can take payments. Profile and documents can change only while the
merchant is ``draft`` or ``rejected``, so what was approved is what is on file.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Final


class MerchantStatus(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    APPROVED = "approved"
    REJECTED = "rejected"
    ACTIVE = "active"
    SUSPENDED = "suspended"


class ReviewAction(StrEnum):
    SUBMIT = "submit"
    APPROVE = "approve"
    REJECT = "reject"
    ACTIVATE = "activate"
    SUSPEND = "suspend"
    REINSTATE = "reinstate"


S = MerchantStatus
TRANSITIONS: Final[dict[ReviewAction, tuple[frozenset[MerchantStatus], MerchantStatus]]] = {
    ReviewAction.SUBMIT: (frozenset({S.DRAFT, S.REJECTED}), S.SUBMITTED),
    ReviewAction.APPROVE: (frozenset({S.SUBMITTED}), S.APPROVED),
    ReviewAction.REJECT: (frozenset({S.SUBMITTED}), S.REJECTED),
    ReviewAction.ACTIVATE: (frozenset({S.APPROVED}), S.ACTIVE),
    ReviewAction.SUSPEND: (frozenset({S.ACTIVE}), S.SUSPENDED),
    ReviewAction.REINSTATE: (frozenset({S.SUSPENDED}), S.ACTIVE),
}
REASON_REQUIRED: Final = frozenset({ReviewAction.REJECT, ReviewAction.SUSPEND})
EDITABLE: Final = frozenset({S.DRAFT, S.REJECTED})
REASON_MAX_LEN: Final = 500


class IllegalTransition(Exception):
    def __init__(self, status: MerchantStatus, action: ReviewAction) -> None:
        super().__init__(f"cannot {action.value} a merchant that is {status.value}")
        self.status = status
        self.action = action


class ReasonRequired(Exception):
    pass


@dataclass(frozen=True)
class Transition:
    from_status: MerchantStatus
    to_status: MerchantStatus
    reason: str | None


def transition(status: MerchantStatus, action: ReviewAction, reason: str | None = None) -> Transition:
    """The transition ``action`` makes from ``status``, or why it may not."""
    sources, target = TRANSITIONS[action]
    if status not in sources:
        raise IllegalTransition(status, action)
    reason = (reason or "").strip() or None
    if action in REASON_REQUIRED and reason is None:
        raise ReasonRequired(f"{action.value} needs a reason")
    return Transition(status, target, reason)


def can_take_payments(status: MerchantStatus) -> bool:
    return status is MerchantStatus.ACTIVE


def is_editable(status: MerchantStatus) -> bool:
    return status in EDITABLE
