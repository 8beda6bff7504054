"""Exception cases for operators (amount mismatches, duplicate captures …) and the alerts they raise."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from tongbao.db.base import Base, UTCDateTime


class ExceptionCase(Base):
    __tablename__ = "exception_cases"
    # One case per kind and capture or refund: the same evidence arriving twice at once adds nothing.
    __table_args__ = (UniqueConstraint("kind", "attempt_id"), UniqueConstraint("kind", "refund_id"))

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    kind: Mapped[str] = mapped_column(String(40), index=True)
    status: Mapped[str] = mapped_column(String(16), index=True)  # open | resolved | dismissed
    merchant_id: Mapped[str | None] = mapped_column(String(40), index=True)
    payment_id: Mapped[str | None] = mapped_column(String(40), index=True)
    attempt_id: Mapped[str | None] = mapped_column(String(40))
    refund_id: Mapped[str | None] = mapped_column(String(40), index=True)
    summary: Mapped[str] = mapped_column(Text)
    # What the channel said, as received (decrypted), so an operator can judge without digging.
    evidence: Mapped[dict[str, Any]] = mapped_column(JSON)
    # The last decision taken (accept, refund, reopen, dismiss …) and its outcome, once final.
    resolution: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class CaseAction(Base):
    """One step in a case's history: who (an operator, or ``system`` by policy) did what, when, why."""

    __tablename__ = "exception_case_actions"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("exception_cases.id"), index=True)
    action: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(String(100))
    reason: Mapped[str] = mapped_column(Text)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON)
    at: Mapped[datetime] = mapped_column(UTCDateTime())


class AlertEvent(Base):
    __tablename__ = "alert_events"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    kind: Mapped[str] = mapped_column(String(40), index=True)
    severity: Mapped[str] = mapped_column(String(16))  # info | warning | critical
    subject_id: Mapped[str | None] = mapped_column(String(40))
    message: Mapped[str] = mapped_column(Text)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
