"""Refund rules: the state machine, how much may still go back, the channels' refund windows.
Plain Python, no I/O.

Refunds follow ``pending → succeeded | failed``. A channel answering "processing" or not at all
leaves a refund pending (the janitor asks again); ``failed`` is final and carries the channel's
reason. The sum of pending and succeeded refunds of a payment never exceeds what was captured.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum
from typing import Final

from tongbao.channels.kinds import Channel
from tongbao.payments.domain import PaymentStatus, refunded_status
from tongbao.rules import InputRefused, RuleBroken


class RefundStatus(StrEnum):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


REFUND_TRANSITIONS: Final[dict[RefundStatus, frozenset[RefundStatus]]] = {
    RefundStatus.PENDING: frozenset({RefundStatus.SUCCEEDED, RefundStatus.FAILED}),
    RefundStatus.SUCCEEDED: frozenset(),
    RefundStatus.FAILED: frozenset(),
}

# How long after the payment a channel still takes a refund: a year on all three.
REFUND_WINDOWS: Final[dict[Channel, timedelta]] = {
    Channel.WECHATPAY: timedelta(days=365),
    Channel.ALIPAY: timedelta(days=365),
    Channel.UNIONPAY: timedelta(days=365),
}

# A refunded payment is refundable too, with nothing left: asking for more is refused for its
# amount (``refund_exceeds_remaining``), whether the earlier refunds have settled yet or not.
REFUNDABLE_STATES: Final = frozenset(
    {PaymentStatus.SUCCEEDED, PaymentStatus.REFUNDED_PARTIALLY, PaymentStatus.REFUNDED}
)


class RefundProblem(RuleBroken):
    """The payment cannot take this refund as things stand (409)."""


class RefundAmountInvalid(InputRefused):
    """The amount asked for is not an amount at all (400)."""


class IllegalRefundTransition(Exception):
    def __init__(self, current: RefundStatus, target: RefundStatus) -> None:
        super().__init__(f"a refund cannot go from {current} to {target}")
        self.current = current
        self.target = target


def check_refund_transition(current: RefundStatus, target: RefundStatus) -> None:
    if target not in REFUND_TRANSITIONS[current]:
        raise IllegalRefundTransition(current, target)


# The one move out of a final refund state: an operator finding that a refund recorded as failed,
# which the channel later reported succeeded, did go back (never by a channel's word alone).
CORRECTIONS: Final = frozenset({(RefundStatus.FAILED, RefundStatus.SUCCEEDED)})


def check_refund_correction(current: RefundStatus, target: RefundStatus) -> None:
    if (current, target) not in CORRECTIONS:
        raise IllegalRefundTransition(current, target)


def check_refundable(
    payment_status: PaymentStatus, channel: Channel, paid_at: datetime, now: datetime
) -> None:
    if payment_status not in REFUNDABLE_STATES:
        raise RefundProblem(
            "payment_not_refundable", "payment_id", f"a {payment_status} payment cannot be refunded"
        )
    if now - paid_at > REFUND_WINDOWS[channel]:
        raise RefundProblem(
            "refund_window_closed",
            "payment_id",
            f"{channel} takes refunds for {REFUND_WINDOWS[channel].days} days",
        )


def check_refund_amount(amount: object, captured: int, committed: int) -> int:
    """``committed`` is the sum of the payment's pending and succeeded refunds."""
    if type(amount) is not int or amount <= 0:
        raise RefundAmountInvalid(
            "amount_invalid", "amount", "amount is a positive integer of minor units (fen)"
        )
    remaining = captured - committed
    if amount > remaining:
        raise RefundProblem(
            "refund_exceeds_remaining", "amount", f"at most {remaining} of {captured} can still be refunded"
        )
    return amount


# The payment's state given what its succeeded refunds add up to (the payment aggregate's rule).
payment_status_after = refunded_status

# When to ask the channel about a refund it has not settled: after 1, 5 and 15 minutes, then hourly.
# Refunds to bank cards can take days; the janitor keeps asking until the channel gives a final word.
REFUND_QUERY_LADDER: Final = (timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=15))
REFUND_QUERY_EVERY: Final = timedelta(hours=1)
# Still not final after the ladder and a day of hourly queries: operators are told (the janitor goes on).
REFUND_OVERDUE_AFTER_QUERIES: Final = len(REFUND_QUERY_LADDER) + 24


def next_refund_query_at(created_at: datetime, queries_done: int) -> datetime:
    if queries_done < len(REFUND_QUERY_LADDER):
        return created_at + REFUND_QUERY_LADDER[queries_done]
    extra = queries_done - len(REFUND_QUERY_LADDER) + 1
    return created_at + REFUND_QUERY_LADDER[-1] + REFUND_QUERY_EVERY * extra


class RefundKind(StrEnum):
    MERCHANT = "merchant"  # asked for through the API
    # Captures the merchant never owned, given back by Tongbao (by policy or by an operator):
    DUPLICATE_CAPTURE = "duplicate_capture"
    LATE_CAPTURE = "late_capture"
    AMOUNT_MISMATCH = "amount_mismatch"


OUT_REFUND_NO_PATTERN: Final = r"[A-Za-z0-9_\-|*.:]{1,64}"
REASON_MAX_LEN: Final = 80  # WeChat's limit; the tightest of the three channels
