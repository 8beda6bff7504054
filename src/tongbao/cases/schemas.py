"""Request and response shapes of the exception-case and alert endpoints (the OpenAPI document)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from tongbao.cases.decisions import REASON_MAX_LEN
from tongbao.refunds.schemas import RefundAdminPublic


class DecisionBody(BaseModel):
    """An operator's decision; which decisions a case takes depends on its kind."""

    model_config = ConfigDict(extra="forbid")

    decision: str | None = Field(
        default=None,
        description=(
            "accept | refund | reopen | resolve | dismiss | mark_refunded | mark_failed | resume "
            "(which ones depend on the kind)"
        ),
    )
    reason: str | None = Field(
        default=None,
        description=(
            f"Why; kept in the case's history with the operator's name (1-{REASON_MAX_LEN} characters)"
        ),
    )
    amount: int | None = Field(
        default=None,
        description=(
            "accept only: which of the amounts the channel reported was right, when it reported more "
            "than one (its first report by default)"
        ),
    )


class CasePublic(BaseModel):
    id: str
    kind: str
    status: str
    merchant_id: str | None
    payment_id: str | None
    attempt_id: str | None
    refund_id: str | None
    summary: str
    evidence: dict[str, Any]
    resolution: str | None
    created_at: str
    updated_at: str


class CaseActionPublic(BaseModel):
    action: str
    actor: str
    reason: str
    detail: dict[str, Any]
    at: str


class CaseDetail(CasePublic):
    """The case with its history (every decision: who, when, why) and the refunds it started."""

    history: list[CaseActionPublic]
    refunds: list[RefundAdminPublic]


class CaseList(BaseModel):
    data: list[CasePublic]


class AlertPublic(BaseModel):
    id: str
    kind: str
    severity: str
    subject_id: str | None
    message: str
    data: dict[str, Any]
    created_at: str


class AlertList(BaseModel):
    data: list[AlertPublic]
