"""The payment jobs and what each carries."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from tongbao.jobs.payloads import JobPayload


@dataclass(frozen=True)
class QueryAttempt(JobPayload):
    """The janitor asks the channel about an attempt nobody has told us about."""

    KIND: ClassVar[str] = "payment.query"
    attempt_id: str

    def dedupe_key(self) -> str:
        return f"query:{self.attempt_id}"


EXPIRY_KEY_PREFIX = "expire:"


@dataclass(frozen=True)
class ExpirePayment(JobPayload):
    """Closes a payment at its expiry (retried while it is held for review)."""

    KIND: ClassVar[str] = "payment.expire"
    payment_id: str

    def dedupe_key(self) -> str:
        return EXPIRY_KEY_PREFIX + self.payment_id


@dataclass(frozen=True)
class ExpirySweep(JobPayload):
    """Periodic: schedules the expiry of overdue payments whose own job went missing."""

    KIND: ClassVar[str] = "payment.expiry_sweep"


@dataclass(frozen=True)
class CloseAttempt(JobPayload):
    """Closes an attempt left open at its channel after another one captured the payment."""

    KIND: ClassVar[str] = "payment.close_attempt"
    attempt_id: str

    def dedupe_key(self) -> str:
        return f"close:{self.attempt_id}"


@dataclass(frozen=True)
class PollBarcode(JobPayload):
    """Follows a barcode payment the payer is still confirming, until ``give_up_at`` (ISO 8601)."""

    KIND: ClassVar[str] = "payment.barcode_poll"
    attempt_id: str
    give_up_at: str

    def dedupe_key(self) -> str:
        return f"barcode:{self.attempt_id}"
