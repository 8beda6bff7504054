"""A merchant's exception policy. Plain Python, no I/O."""

from __future__ import annotations

from enum import StrEnum


class ExceptionPolicy(StrEnum):
    """Per merchant: what happens to a duplicate or late capture before anyone looks."""

    AUTO_REFUND = "auto_refund"  # give a duplicate back, succeed a late one if nothing else captured
    HOLD_FOR_REVIEW = "hold_for_review"  # keep the case open for an operator
