"""How Tongbao writes an instant in its own API and notifications: one form, always.

    2026-11-25T09:29:01.000000Z      UTC, six digits of microseconds, a literal Z

Fixed width, so the text sorts as the instant does, and a whole second looks like any other.
Channel wire formats (WeChat's +08:00, Alipay's Beijing wall time, UnionPay's txnTime) are the
channels' business and are written by their adapters and simulators, not here.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Final

from pydantic import PlainSerializer

FORMAT: Final = "%Y-%m-%dT%H:%M:%S.%fZ"


def instant(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("a naive datetime has no instant to write")
    return moment.astimezone(UTC).strftime(FORMAT)


def instant_or_none(moment: datetime | None) -> str | None:
    return None if moment is None else instant(moment)


# For response schemas: validated as a datetime, written as ``instant`` in JSON.
Instant = Annotated[datetime, PlainSerializer(instant, return_type=str, when_used="json")]
