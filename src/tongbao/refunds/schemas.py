"""Request and response shapes of the refund endpoints, for validation and the OpenAPI document."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, Field, StrictInt

from tongbao.api.fields import StrictRequest, refused, refused_at, text
from tongbao.channels.kinds import Channel
from tongbao.merchants.domain.apps import AppRuleBroken, check_notify_url
from tongbao.merchants.pagination import Listed
from tongbao.refunds import domain
from tongbao.refunds.domain import RefundKind, RefundStatus

OUT_NO_RULE = "1-64 characters of A-Z a-z 0-9 _ - | * . :"


def _amount(value: object) -> object:
    # bool is an int in Python; a JSON true is not an amount.
    if type(value) is not int or value <= 0:
        raise refused("amount_invalid", "amount is a positive integer of minor units (fen)")
    return value


def _url(value: str | None) -> str | None:
    if value:
        try:
            check_notify_url(value)
        except AppRuleBroken as problem:
            raise refused("parameter_invalid", str(problem)) from None
    return value


def _given(value: object) -> bool:
    return value is not None and value != ""


class RefundCreate(StrictRequest):
    """Fields are checked in this order; the first mistake is the one answered."""

    payment_id: Annotated[Annotated[str, Field(max_length=40)] | None, BeforeValidator(text(40))] = Field(
        default=None, description="The payment to refund (or name it by out_trade_no)"
    )
    out_trade_no: Annotated[Annotated[str, Field(max_length=64)] | None, BeforeValidator(text(64))] = Field(
        default=None, description="Your order number of the payment"
    )
    out_refund_no: Annotated[
        str,
        Field(min_length=1, max_length=64, pattern=f"^{domain.OUT_REFUND_NO_PATTERN}$"),
        BeforeValidator(text(64, required=True, pattern=domain.OUT_REFUND_NO_PATTERN, rule=OUT_NO_RULE)),
    ] = Field(description=f"Your refund number; unique per app. {OUT_NO_RULE}")
    amount: Annotated[StrictInt, Field(ge=1), BeforeValidator(_amount)] = Field(
        description="Integer of minor units (fen), at most what is left to refund"
    )
    reason: Annotated[
        Annotated[str, Field(max_length=domain.REASON_MAX_LEN)] | None,
        BeforeValidator(text(domain.REASON_MAX_LEN)),
    ] = Field(default=None, description="Shown to the payer where the channel does")
    notify_url: Annotated[
        Annotated[str, Field(max_length=1024, json_schema_extra={"format": "uri"})] | None,
        BeforeValidator(text(1024)),
        AfterValidator(_url),
    ] = Field(default=None, description="Where refund.succeeded / refund.failed go")

    @classmethod
    def check_body(cls, data: dict[str, Any]) -> None:
        """Exactly one of payment_id and out_trade_no names the payment."""
        by_id, by_number = _given(data.get("payment_id")), _given(data.get("out_trade_no"))
        if by_id == by_number:
            raise refused_at(
                cls.__name__,
                ("payment_id",),
                "parameter_invalid" if by_id else "parameter_missing",
                "name the payment by payment_id or by out_trade_no (one of them)",
                data.get("payment_id"),
            )


class RefundPublic(BaseModel):
    id: str
    object: Literal["refund"]
    payment_id: str
    out_trade_no: str | None
    out_refund_no: str | None
    amount: int
    currency: str
    status: RefundStatus
    reason: str | None
    failure_reason: str | None
    channel: Channel
    channel_refund_no: str | None
    notify_url: str | None
    created_at: str
    finished_at: str | None


class RefundsPublic(Listed[RefundPublic]):
    """A page of the list, newest first."""


class RefundAdminPublic(RefundPublic):
    """What operators see besides: whose capture it returns, why, and what the channel last said."""

    kind: RefundKind
    merchant_id: str
    attempt_id: str
    case_id: str | None
    channel_account_id: str
    last_error: str | None
    submitted_at: str | None
    queries_done: int


class RefundsAdminPublic(Listed[RefundAdminPublic]):
    """A page of the list over every merchant, newest first."""
