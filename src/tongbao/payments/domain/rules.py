"""Payment rules: the state machine, amount and expiry bounds. Plain Python, no I/O.

Payment states (DESIGN §4)::

    pending ──► succeeded ──► refunded_partially ──► refunded
       │                         └──► refunded_partially (another partial refund)
       ├──► closed
       └──► failed

A payment may have several channel attempts (the payer may switch method at the cashier); at most
one attempt captures it. Attempts follow ``pending → succeeded | closed | failed | mismatched``.

A channel's report that it captured money is a fact, whatever we believed: an attempt we had closed
can still be paid (the payer paid at the last second; a second device scanned). Such attempts move
from ``closed``/``failed`` to ``succeeded`` (or ``mismatched``: captured with another amount or
currency than asked, until an operator accepts it). Whether that capture becomes the payment's is
decided separately: a payment captured by another attempt keeps that one (a duplicate payment); a
closed payment with no capture may succeed late (``late_success``), by policy or by an operator.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum
from typing import Final

from tongbao.money import CURRENCIES, MAX_AMOUNT
from tongbao.rules import InputRefused, RuleBroken


class PaymentStatus(StrEnum):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    CLOSED = "closed"
    FAILED = "failed"
    REFUNDED_PARTIALLY = "refunded_partially"
    REFUNDED = "refunded"


class AttemptStatus(StrEnum):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    CLOSED = "closed"
    FAILED = "failed"
    MISMATCHED = "mismatched"  # the channel captured another amount or currency: an operator decides


PAYMENT_TRANSITIONS: Final[dict[PaymentStatus, frozenset[PaymentStatus]]] = {
    PaymentStatus.PENDING: frozenset({PaymentStatus.SUCCEEDED, PaymentStatus.CLOSED, PaymentStatus.FAILED}),
    PaymentStatus.SUCCEEDED: frozenset({PaymentStatus.REFUNDED_PARTIALLY, PaymentStatus.REFUNDED}),
    PaymentStatus.REFUNDED_PARTIALLY: frozenset({PaymentStatus.REFUNDED_PARTIALLY, PaymentStatus.REFUNDED}),
    PaymentStatus.CLOSED: frozenset(),
    PaymentStatus.FAILED: frozenset(),
    PaymentStatus.REFUNDED: frozenset(),
}

_CAPTURED: Final = frozenset({AttemptStatus.SUCCEEDED, AttemptStatus.MISMATCHED})
ATTEMPT_TRANSITIONS: Final[dict[AttemptStatus, frozenset[AttemptStatus]]] = {
    AttemptStatus.PENDING: frozenset({AttemptStatus.CLOSED, AttemptStatus.FAILED}) | _CAPTURED,
    AttemptStatus.SUCCEEDED: frozenset(),
    AttemptStatus.CLOSED: _CAPTURED,  # a late capture
    AttemptStatus.FAILED: _CAPTURED,
    AttemptStatus.MISMATCHED: frozenset({AttemptStatus.SUCCEEDED}),  # an operator accepted the amount
}
# A closed or failed payment nothing captured may still succeed when a late capture is accepted.
LATE_SUCCESS_FROM: Final = frozenset({PaymentStatus.CLOSED, PaymentStatus.FAILED})

FINAL_PAYMENT_STATES: Final = frozenset({PaymentStatus.CLOSED, PaymentStatus.FAILED, PaymentStatus.REFUNDED})

# Bounds a merchant can ask for (the amount's upper bound is ``tongbao.money.MAX_AMOUNT``).
DEFAULT_EXPIRY: Final = timedelta(hours=2)
# A payer switching methods at the cashier opens one channel order per switch; this many at most.
MAX_ATTEMPTS: Final = 10
MIN_EXPIRY: Final = timedelta(minutes=1)
MAX_EXPIRY: Final = timedelta(days=7)

# When to ask the channel about a payment it has not told us about: after 1, 5, 15 and 60 minutes,
# then every hour until the payment expires.
QUERY_LADDER: Final = (timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=15), timedelta(hours=1))
QUERY_EVERY_AFTER_LADDER: Final = timedelta(hours=1)


class IllegalTransition(Exception):
    def __init__(self, kind: str, current: str, target: str) -> None:
        super().__init__(f"a {kind} cannot go from {current} to {target}")
        self.current = current
        self.target = target


def check_payment_transition(current: PaymentStatus, target: PaymentStatus) -> None:
    if target not in PAYMENT_TRANSITIONS[current]:
        raise IllegalTransition("payment", current, target)


def check_attempt_transition(current: AttemptStatus, target: AttemptStatus) -> None:
    if target not in ATTEMPT_TRANSITIONS[current]:
        raise IllegalTransition("payment attempt", current, target)


def check_capture(current: PaymentStatus, late: bool) -> None:
    """A payment taking its capture: from pending, or (``late``) from closed/failed."""
    if late:
        if current not in LATE_SUCCESS_FROM:
            raise IllegalTransition("payment", current, PaymentStatus.SUCCEEDED)
        return
    check_payment_transition(current, PaymentStatus.SUCCEEDED)


class AmountProblem(InputRefused):
    """A payment's amount, currency, expiry or metadata breaks its bounds."""


class PaymentNotOpen(RuleBroken):
    """The payment settled (succeeded, failed, closed) and cannot be closed any more."""

    def __init__(self, status: str) -> None:
        super().__init__("payment_not_closable", None, f"the payment is {status} and cannot be closed")


class UnderReview(RuleBroken):
    """A capture of another amount holds the payment until an operator decides its case."""

    def __init__(self) -> None:
        super().__init__(
            "payment_under_review",
            None,
            "the channel captured another amount for this payment; it stays open until an operator "
            "resolves its exception case",
        )


def check_amount(amount: object, currency: object) -> tuple[int, str]:
    # bool is an int in Python; a JSON true is not an amount.
    if type(amount) is not int:
        raise AmountProblem("amount_invalid", "amount", "amount is an integer of minor units (fen)")
    if amount <= 0:
        raise AmountProblem("amount_invalid", "amount", "amount must be positive")
    if amount > MAX_AMOUNT:
        raise AmountProblem("amount_too_large", "amount", f"amount must not exceed {MAX_AMOUNT}")
    if not isinstance(currency, str) or currency not in CURRENCIES:
        raise AmountProblem(
            "currency_unsupported", "currency", f"currency must be one of {', '.join(sorted(CURRENCIES))}"
        )
    return amount, currency


def check_expire_in(expire_in_seconds: object) -> int | None:
    if expire_in_seconds is None:
        return None
    if type(expire_in_seconds) is not int:
        raise AmountProblem("parameter_invalid", "expire_in_seconds", "expire_in_seconds is an integer")
    # Compared as integers: a huge value must be refused, not overflow a timedelta.
    if not MIN_EXPIRY.total_seconds() <= expire_in_seconds <= MAX_EXPIRY.total_seconds():
        raise AmountProblem(
            "parameter_invalid",
            "expire_in_seconds",
            f"expire_in_seconds must be between {int(MIN_EXPIRY.total_seconds())} "
            f"and {int(MAX_EXPIRY.total_seconds())}",
        )
    return expire_in_seconds


def expiry(now: datetime, expire_in_seconds: int | None) -> datetime:
    return now + (DEFAULT_EXPIRY if expire_in_seconds is None else timedelta(seconds=expire_in_seconds))


def next_query_at(created_at: datetime, queries_done: int, expires_at: datetime) -> datetime | None:
    """When to query an unresolved attempt next; None once it is past its expiry (the sweep takes over)."""
    if queries_done < len(QUERY_LADDER):
        at = created_at + QUERY_LADDER[queries_done]
    else:
        extra = queries_done - len(QUERY_LADDER) + 1
        at = created_at + QUERY_LADDER[-1] + QUERY_EVERY_AFTER_LADDER * extra
    return at if at < expires_at else None


OUT_TRADE_NO_PATTERN: Final = r"[A-Za-z0-9_\-|*.:]{1,64}"
SUBJECT_MAX_LEN: Final = 128
METADATA_MAX_KEYS: Final = 20
METADATA_MAX_VALUE_LEN: Final = 500


def check_metadata(value: object) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict) or len(value) > METADATA_MAX_KEYS:
        raise AmountProblem(
            "parameter_invalid", "metadata", f"metadata is an object of at most {METADATA_MAX_KEYS} keys"
        )
    for key, item in value.items():
        if not isinstance(item, str) or len(key) > 40 or len(item) > METADATA_MAX_VALUE_LEN:
            raise AmountProblem(
                "parameter_invalid",
                f"metadata.{key}",
                f"metadata values are strings of at most {METADATA_MAX_VALUE_LEN} characters; keys of 40",
            )
    return dict(value)
