"""HTTP shapes of the merchant side. ``*Create``/``*Update`` come in, ``*Public`` goes out."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from tongbao.channels.kinds import Channel
from tongbao.merchants.domain.channel_accounts import AccountMode
from tongbao.merchants.domain.documents import DocumentKind
from tongbao.merchants.domain.onboarding import MerchantStatus
from tongbao.timestamps import Instant


def _no_nul(value: str) -> str:
    # PostgreSQL text cannot hold NUL: refuse it as bad input instead of failing in the database.
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


NoNul = AfterValidator(_no_nul)
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100), NoNul]
Text200 = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200), NoNul]
Email = Annotated[
    str,
    StringConstraints(strip_whitespace=True, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$"),
    NoNul,
]
Text = Annotated[str, NoNul]
Phone = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^\+?[0-9][0-9\- ]{4,30}$")]
LicenceNo = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[0-9A-Z]{15,20}$")]


class In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


# --- merchants -------------------------------------------------------------------------------


class MerchantCreate(In):
    name: Name
    legal_name: Text200
    business_license_no: LicenceNo | None = Field(default=None, description="统一社会信用代码")
    contact_name: Name | None = None
    contact_email: Email | None = None
    contact_phone: Phone | None = None


class MerchantUpdate(In):
    name: Name | None = None
    legal_name: Text200 | None = None
    business_license_no: LicenceNo | None = None
    contact_name: Name | None = None
    contact_email: Email | None = None
    contact_phone: Phone | None = None


class MerchantPublic(Out):
    id: str
    name: str
    legal_name: str
    business_license_no: str | None
    contact_name: str | None
    contact_email: str | None
    contact_phone: str | None
    status: MerchantStatus
    status_reason: str | None
    created_at: Instant
    updated_at: Instant


class MerchantsPublic(BaseModel):
    data: list[MerchantPublic]
    has_more: bool


class ReviewRequest(In):
    reason: Annotated[str, StringConstraints(strip_whitespace=True, max_length=500), NoNul] | None = None


class MerchantEventPublic(Out):
    id: str
    action: str
    from_status: str
    to_status: str
    actor: str
    reason: str | None
    created_at: Instant


class DocumentPublic(Out):
    id: str
    merchant_id: str
    kind: DocumentKind
    filename: str
    content_type: str
    size_bytes: int
    sha256: str
    uploaded_by: str
    created_at: Instant
    superseded_at: Instant | None


# --- apps ------------------------------------------------------------------------------------

IpEntries = Annotated[list[Annotated[str, StringConstraints(max_length=64)]], Field(max_length=64)]


class AppCreate(In):
    merchant_id: Text
    name: Name
    notify_url: Text | None = None
    ip_allowlist: IpEntries = Field(
        default_factory=list, description="IPs or CIDR networks; empty allows all"
    )
    rsa_public_key_pem: Text | None = Field(default=None, description="enables TONGBAO-RSA-SHA256 signing")


class AppUpdate(In):
    name: Name | None = None
    notify_url: Text | None = None
    ip_allowlist: IpEntries | None = None
    rsa_public_key_pem: Text | None = None


class AppPublic(Out):
    id: str
    merchant_id: str
    name: str
    notify_url: str | None
    ip_allowlist: list[str]
    rsa_public_key_pem: str | None
    enabled: bool
    created_at: Instant
    updated_at: Instant


class AppsPublic(BaseModel):
    data: list[AppPublic]
    has_more: bool


class AppWithSecretPublic(AppPublic):
    secret: str = Field(description="shown once: store it now")
    previous_secret_expires_at: Instant | None = None


class RotateSecret(In):
    overlap_seconds: int | None = Field(
        default=None, description="how long the previous secret keeps working (default one day)"
    )


# --- channel accounts ------------------------------------------------------------------------


class ChannelAccountCreate(In):
    name: Name
    channel: Channel
    mode: AccountMode
    merchant_id: Text | None = Field(default=None, description="the owner of an own account")
    base_url: Text | None = Field(default=None, description="the channel's gateway, or a simulator")
    config: dict[str, Any] = Field(default_factory=dict, description="public settings, e.g. mchid, appid")
    credentials: dict[str, Any] = Field(description="secrets: encrypted at rest, never returned")


class ChannelAccountUpdate(In):
    name: Name | None = None
    base_url: Text | None = None
    config: dict[str, Any] | None = None
    enabled: bool | None = None


class CredentialsReplace(In):
    credentials: dict[str, Any]


class ChannelAccountPublic(Out):
    id: str
    name: str
    channel: Channel
    mode: AccountMode
    merchant_id: str | None
    base_url: str
    config: dict[str, str]
    credential_fields: list[str] = Field(
        description="which secrets are stored; their values are never returned"
    )
    enabled: bool
    single_max_amount: int | None = Field(default=None, description="fen; none: no limit")
    daily_max_amount: int | None = Field(default=None, description="fen per Beijing business day")
    created_at: Instant
    updated_at: Instant


class ChannelAccountsPublic(BaseModel):
    data: list[ChannelAccountPublic]
    has_more: bool


class BindingRequest(In):
    channel_account_id: Text


class BindingPublic(Out):
    merchant_id: str
    channel: Channel
    channel_account_id: str
    created_at: Instant
    updated_at: Instant


# --- the merchant API ------------------------------------------------------------------------


class MeApp(BaseModel):
    id: str
    name: str
    notify_url: str | None
    ip_allowlist: list[str]
    signing_schemes: list[str]


class MeMerchant(BaseModel):
    id: str
    name: str
    legal_name: str
    status: MerchantStatus
    can_take_payments: bool


class MePublic(BaseModel):
    app: MeApp
    merchant: MeMerchant
