"""Request and response shapes of the refund endpoints, for validation and the OpenAPI document."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from tongbao.merchants.pagination import Listed


class RefundCreate(BaseModel):
    """Checked field by field by the service (so that each mistake gets its own error code)."""

    model_config = ConfigDict(extra="allow")

    payment_id: Any = Field(default=None, description="The payment to refund (or name it by out_trade_no)")
    out_trade_no: Any = Field(default=None, description="Your order number of the payment")
    out_refund_no: Any = Field(
        description="Your refund number; unique per app. 1-64 of A-Z a-z 0-9 _ - | * . :"
    )
    amount: Any = Field(description="Integer of minor units (fen), at most what is left to refund")
    reason: Any = Field(default=None, description="Shown to the payer where the channel does (at most 80)")
    notify_url: Any = Field(default=None, description="Where refund.succeeded / refund.failed go")


class RefundPublic(BaseModel):
    id: str
    object: str
    payment_id: str
    out_trade_no: str | None
    out_refund_no: str | None
    amount: int
    currency: str
    status: str
    reason: str | None
    failure_reason: str | None
    channel: str
    channel_refund_no: str | None
    notify_url: str | None
    created_at: str
    finished_at: str | None


class RefundsPublic(Listed[RefundPublic]):
    """A page of the list, newest first."""
