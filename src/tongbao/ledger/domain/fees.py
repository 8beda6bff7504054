"""Clearing (清算): what a payment costs the merchant (the plan's fee) and the platform (the channel's
cost), and what a refund gives back of each. Plain Python; the rounding is ``money.round_fen``.

A fee is ``rate`` basis points of the gross, at least ``minimum`` and at most ``cap`` (when set),
and never more than the gross itself. A refund gives back the share of the fee its amount carries
(``proportional``) or nothing (``none``). The share is computed on the cumulative refunded amount,
so however a payment is refunded in parts, the fee given back never exceeds the fee charged and a
full refund gives back exactly all of it; a refund that fails takes back what leaves the refunds still
live their share, so that no order of failures leaves them carrying less (or more) than that.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Final

from tongbao.money import rate_of, share_of
from tongbao.rules import InputRefused

MAX_RATE_BPS: Final = Decimal(10_000)


class RefundMode(StrEnum):
    PROPORTIONAL = "proportional"
    NONE = "none"


class FeePlanInvalid(InputRefused):
    """A fee plan that is not one (400)."""


def check_rule(rate_bps: object, minimum: object, cap: object) -> None:
    if not isinstance(rate_bps, Decimal) or not rate_bps.is_finite() or not 0 <= rate_bps <= MAX_RATE_BPS:
        raise FeePlanInvalid("rate_invalid", "rate_bps", "rate_bps is between 0 and 10000 basis points")
    if type(minimum) is not int or minimum < 0:
        raise FeePlanInvalid("minimum_invalid", "minimum", "minimum is a non-negative integer of fen")
    if cap is not None and (type(cap) is not int or cap < minimum):
        raise FeePlanInvalid("cap_invalid", "cap", "cap is an integer of fen, at least the minimum")


@dataclass(frozen=True)
class FeeRule:
    rate_bps: Decimal
    minimum: int = 0
    cap: int | None = None
    refund_mode: RefundMode = RefundMode.PROPORTIONAL

    def __post_init__(self) -> None:
        check_rule(self.rate_bps, self.minimum, self.cap)

    def charge(self, gross: int) -> int:
        fee = max(rate_of(gross, self.rate_bps), self.minimum)
        if self.cap is not None:
            fee = min(fee, self.cap)
        return min(fee, gross)

    def carried(self, charged: int, gross: int, refunded: int) -> int:
        """The part of the ``charged`` fee that live refunds of ``refunded`` in all carry."""
        if self.refund_mode is RefundMode.NONE or gross == 0 or refunded <= 0:
            return 0
        return charged if refunded >= gross else min(share_of(charged, refunded, gross), charged)

    def given_back(self, charged: int, gross: int, refunded_after: int, given_so_far: int) -> int:
        """What a refund bringing the payment's refunded total to ``refunded_after`` gives back,
        when earlier live refunds gave back ``given_so_far`` of the ``charged`` fee."""
        return max(0, self.carried(charged, gross, refunded_after) - given_so_far)

    def taken_back(self, charged: int, gross: int, refunded_after: int, given_so_far: int) -> int:
        """What a failed refund takes back of the ``given_so_far`` fee, leaving the refunds still
        live (``refunded_after`` in all) the share they carry. Not simply what its reservation gave:
        that was counted on top of the refunds live then, some of which may have failed since."""
        return max(0, given_so_far - self.carried(charged, gross, refunded_after))


ZERO: Final = FeeRule(Decimal(0))
