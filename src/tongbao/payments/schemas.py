"""Request and response shapes of the payment endpoints, for validation and the OpenAPI document."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class PaymentCreate(BaseModel):
    """Checked field by field by the service (so that each mistake gets its own error code)."""

    model_config = ConfigDict(extra="allow")

    out_trade_no: Any = Field(
        description="Your order number; unique per app. 1-64 of A-Z a-z 0-9 _ - | * . :"
    )
    amount: Any = Field(description="Integer of minor units (fen), 1 to 100000000")
    currency: Any = Field(default="CNY", description="ISO 4217; CNY")
    method: Any = Field(
        default=None, description="wechat_native, wechat_jsapi, wechat_h5, wechat_app; omit for the cashier"
    )
    subject: Any = Field(description="What is being paid for, shown to the payer (1-128 characters)")
    notify_url: Any = None
    return_url: Any = None
    expire_in_seconds: Any = Field(default=None, description="60 to 604800; default 7200")
    client_ip: Any = None
    payer: Any = Field(default=None, description="{openid} for wechat_jsapi")
    metadata: Any = Field(default=None, description="Up to 20 string values, returned as given")


class AttemptPublic(BaseModel):
    id: str
    channel_order_no: str
    method: str
    channel: str
    channel_account_id: str
    account_mode: str
    status: str
    channel_trade_no: str | None
    error: str | None
    created_at: str
    finished_at: str | None


class PaymentFields(BaseModel):
    """A payment with its attempts; the API adds its refunds (``tongbao.api.payment_schemas``)."""

    id: str
    object: str
    out_trade_no: str
    status: str
    amount: int
    currency: str
    captured_amount: int | None
    refunded_amount: int
    refundable_amount: int
    subject: str
    method: str | None
    channel: str | None
    account_mode: str | None
    channel_trade_no: str | None
    captured_attempt_id: str | None
    action: dict[str, Any] | None
    notify_url: str | None
    return_url: str | None
    metadata: dict[str, str]
    expires_at: str
    created_at: str
    succeeded_at: str | None
    closed_at: str | None
    attempts: list[AttemptPublic]
