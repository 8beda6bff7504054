"""What happened to a refund, as the refund aggregate reports it; each carries the refund's amount."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tongbao.events import DomainEvent


@dataclass(frozen=True, kw_only=True)
class RefundEvent(DomainEvent):
    refund_id: str
    payment_id: str
    attempt_id: str
    merchant_id: str
    case_id: str | None
    kind: str
    amount: int
    currency: str
    channel: str
    channel_account_id: str
    # Who gave the final word: the channel (``channel``) or an operator reading its statement.
    by: str = "channel"
    evidence: dict[str, Any] = field(default_factory=dict, compare=False)


@dataclass(frozen=True, kw_only=True)
class RefundOpened(RefundEvent):
    """A refund was written, its amount committed against the capture until the channel settles it."""


@dataclass(frozen=True, kw_only=True)
class RefundSucceeded(RefundEvent):
    """The money went back to the payer. ``corrected``: the refund had been recorded failed."""

    corrected: bool = False


@dataclass(frozen=True, kw_only=True)
class RefundFailed(RefundEvent):
    """The channel could not send the money back; the amount may be refunded again."""

    failure_reason: str


@dataclass(frozen=True, kw_only=True)
class RefundContested(RefundEvent):
    """A refund recorded failed is reported succeeded: its amount is reserved again until decided."""

    failure_reason: str | None


@dataclass(frozen=True, kw_only=True)
class RefundContestWithdrawn(RefundEvent):
    """An operator found a contested refund did fail after all: its amount is free again."""


@dataclass(frozen=True, kw_only=True)
class RefundAmountDisputed(RefundEvent):
    """The channel reports another amount (``reported_amount``) going back than asked (``amount``)."""

    reported_amount: int


@dataclass(frozen=True, kw_only=True)
class RefundOverdue(RefundEvent):
    """A day of asking and the channel still has no final word."""

    queries_done: int
    last_error: str | None


@dataclass(frozen=True, kw_only=True)
class RefundSyncStopped(RefundEvent):
    """The janitor's attempts are spent and the refund is still pending."""

    attempts: int
    queries_done: int
    last_error: str | None
