"""Request and response shapes of the payment endpoints, for validation and the OpenAPI document."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, StrictInt, ValidationInfo

from tongbao.api.fields import StrictRequest, no_nul, refused, text
from tongbao.channels.kinds import Channel, Method
from tongbao.merchants.domain.apps import AppRuleBroken, check_notify_url
from tongbao.merchants.domain.channel_accounts import AccountMode
from tongbao.money import CURRENCIES
from tongbao.payments import domain
from tongbao.payments.domain import AmountProblem, AttemptStatus, PaymentStatus

_MIN_EXPIRY_S = int(domain.MIN_EXPIRY.total_seconds())
_MAX_EXPIRY_S = int(domain.MAX_EXPIRY.total_seconds())
OUT_NO_RULE = "1-64 characters of A-Z a-z 0-9 _ - | * . :"
# Alipay's payment codes: 16-24 digits beginning 25 to 30.
AUTH_CODE_PATTERN = r"(2[5-9]|30)[0-9]{14,22}"
_METHODS = frozenset(m.value for m in Method)


def _amount(value: object) -> object:
    try:
        domain.check_amount(value, "CNY")
    except AmountProblem as problem:
        raise refused(problem.code, problem.message) from None
    return value


def _currency(value: object) -> object:
    try:
        domain.check_amount(1, value)
    except AmountProblem as problem:
        raise refused(problem.code, problem.message) from None
    return value


def _method(value: object) -> object:
    if value is None or (isinstance(value, str) and value in _METHODS):
        return value
    known = ", ".join(m.value for m in Method)
    raise refused("method_unknown", f"method must be one of {known}")


def _url(value: str | None, info: ValidationInfo) -> str | None:
    if value:
        try:
            check_notify_url(value, info.field_name or "notify_url")
        except AppRuleBroken as problem:
            raise refused("parameter_invalid", str(problem)) from None
    return value


# Constraints come before the validators in each Annotated: there they describe the type itself
# and appear in the JSON schema; the validators refuse first, with the field's own code.
OutNo = Annotated[
    str,
    Field(min_length=1, max_length=64, pattern=f"^{domain.OUT_TRADE_NO_PATTERN}$"),
    BeforeValidator(text(64, required=True, pattern=domain.OUT_TRADE_NO_PATTERN, rule=OUT_NO_RULE)),
]
# Constraints sit on the str inside "| None": Pydantic cannot apply max_length to a None.
Url = Annotated[
    Annotated[str, Field(max_length=1024, json_schema_extra={"format": "uri"})] | None,
    BeforeValidator(text(1024)),
    AfterValidator(_url),
]
ClientIp = Annotated[Annotated[str, Field(max_length=64)] | None, BeforeValidator(text(64))]
MetadataKey = Annotated[str, Field(max_length=40), AfterValidator(no_nul)]
MetadataValue = Annotated[str, Field(max_length=domain.METADATA_MAX_VALUE_LEN), AfterValidator(no_nul)]


class Payer(BaseModel):
    """Who pays, where the method needs to know (``wechat_jsapi``)."""

    model_config = ConfigDict(extra="ignore")

    openid: Annotated[Annotated[str, Field(max_length=128)] | None, BeforeValidator(text(128))] = Field(
        default=None, description="The payer's openid under the merchant's WeChat appid"
    )


class PaymentCreate(StrictRequest):
    """Fields are checked in this order; the first mistake is the one answered."""

    out_trade_no: OutNo = Field(description=f"Your order number; unique per app. {OUT_NO_RULE}")
    amount: Annotated[int, Field(ge=1, le=domain.MAX_AMOUNT), BeforeValidator(_amount)] = Field(
        description=f"Integer of minor units (fen), 1 to {domain.MAX_AMOUNT}"
    )
    currency: Annotated[
        str, Field(json_schema_extra={"enum": sorted(CURRENCIES)}), BeforeValidator(_currency)
    ] = Field(default="CNY", description="ISO 4217")
    metadata: (
        Annotated[dict[MetadataKey, MetadataValue], Field(max_length=domain.METADATA_MAX_KEYS)] | None
    ) = Field(default=None, description="Up to 20 string values, returned as given")
    expire_in_seconds: Annotated[StrictInt, Field(ge=_MIN_EXPIRY_S, le=_MAX_EXPIRY_S)] | None = Field(
        default=None, description=f"{_MIN_EXPIRY_S} to {_MAX_EXPIRY_S}; default 7200"
    )
    notify_url: Url = Field(default=None, description="Where payment events go; the app's if omitted")
    return_url: Url = Field(default=None, description="Where page and wap methods send the payer back")
    subject: Annotated[
        str,
        Field(min_length=1, max_length=domain.SUBJECT_MAX_LEN),
        BeforeValidator(text(domain.SUBJECT_MAX_LEN, required=True)),
    ] = Field(description="What is being paid for, shown to the payer")
    method: Annotated[Method | None, BeforeValidator(_method)] = Field(
        default=None, description="How the payer pays; omit to let the payer choose at the cashier"
    )
    payer: Payer | None = Field(default=None, description="The payer's openid for wechat_jsapi")
    auth_code: Annotated[
        # The pattern is only described: a mismatch is auth_code_invalid, and only for barcode methods.
        Annotated[str, Field(max_length=32, json_schema_extra={"pattern": f"^{AUTH_CODE_PATTERN}$"})] | None,
        BeforeValidator(text(32)),
    ] = Field(default=None, description="The payer's barcode, for alipay_barcode only")
    client_ip: ClientIp = Field(default=None, description="The payer's IP (wechat_h5)")


ActionType = Literal["qr_code", "redirect", "form_post", "jsapi", "app", "none"]


class ActionPublic(BaseModel):
    """What the merchant's front end does next; the fields beside ``type`` depend on it (``code_url``
    for a QR code, ``url`` for a redirect, ``url`` and ``fields`` for a form post, the wallet's own
    parameters for ``jsapi`` and ``app``)."""

    model_config = ConfigDict(extra="allow")
    __pydantic_extra__: dict[str, str | dict[str, str]] = Field(init=False)

    type: ActionType


class AttemptPublic(BaseModel):
    id: str
    channel_order_no: str
    method: Method
    channel: Channel
    channel_account_id: str
    account_mode: AccountMode
    status: AttemptStatus
    channel_trade_no: str | None
    error: str | None
    created_at: str
    finished_at: str | None


class PaymentFields(BaseModel):
    """A payment with its attempts; the API adds its refunds (``tongbao.api.payment_schemas``)."""

    id: str
    object: Literal["payment"]
    out_trade_no: str
    status: PaymentStatus
    amount: int
    currency: str
    captured_amount: int | None
    refunded_amount: int
    refundable_amount: int
    subject: str
    method: Method | None
    channel: Channel | None
    account_mode: AccountMode | None
    channel_trade_no: str | None
    captured_attempt_id: str | None
    action: ActionPublic | None
    notify_url: str | None
    return_url: str | None
    metadata: dict[str, str]
    expires_at: str
    created_at: str
    succeeded_at: str | None
    closed_at: str | None
    attempts: list[AttemptPublic]
