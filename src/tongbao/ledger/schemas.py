"""HTTP shapes of the ledger: balances and balance transactions (merchant API), accounts, entries,
the chain's head and fee plans (admin API)."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field

from tongbao.api.fields import no_nul
from tongbao.ledger.domain import RefundMode
from tongbao.merchants.pagination import Listed
from tongbao.timestamps import Instant

NoNul = AfterValidator(no_nul)
Fen = Annotated[int, Field(ge=0, le=100_000_000)]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CurrencyBalance(BaseModel):
    currency: str
    pending: int = Field(description="Owed to the merchant, not yet matured for settlement")
    available: int = Field(description="Matured, to be paid out at the next settlement")
    reserve: int = Field(description="Held back as a rolling reserve")
    owed_to_platform: int = Field(
        description="Fees the merchant owes (payments through its own channel account)"
    )


class BalancePublic(BaseModel):
    object: str = "balance"
    balances: list[CurrencyBalance]


class BalanceTransaction(BaseModel):
    id: str
    type: str = Field(description="payment_captured, capture_taken, refund_reserved or refund_released")
    payment_id: str | None
    refund_id: str | None
    currency: str
    gross: int = Field(description="Signed: positive for a capture, negative for a refund")
    fee: int = Field(description="Signed: the platform's fee charged (negative: given back)")
    net: int = Field(description="gross − fee: what moved the merchant's balance")
    created_at: Instant


class BalanceTransactions(Listed[BalanceTransaction]):
    pass


class PostingPublic(BaseModel):
    account_id: str
    amount: int = Field(description="Signed minor units: a debit is positive, a credit negative")


class EntryPublic(BaseModel):
    id: str
    kind: str
    idempotency_key: str
    currency: str
    merchant_id: str | None
    payment_id: str | None
    attempt_id: str | None
    refund_id: str | None
    case_id: str | None
    gross: int
    fee: int
    net: int
    channel_cost: int
    memo: str
    created_at: Instant
    postings: list[PostingPublic]


class EntriesPublic(Listed[EntryPublic]):
    pass


class AccountPublic(BaseModel):
    id: str
    purpose: str
    type: str
    currency: str
    merchant_id: str | None
    channel_account_id: str | None
    memo: bool
    no_negative: bool
    frozen: bool
    frozen_reason: str | None
    balance: int = Field(
        description="On the account's normal side (assets and expenses debit, others credit)"
    )
    created_at: Instant


class AccountsPublic(BaseModel):
    data: list[AccountPublic]
    has_more: bool


class FreezeBody(_In):
    reason: Annotated[str, Field(min_length=1, max_length=200), NoNul]


class ChainHead(BaseModel):
    block_no: int | None = Field(description="The newest block; null before the first seal")
    hash: str = Field(description="The chain's head: publish it to make later tampering provable")
    entries_sealed: int
    sealed_at: Instant | None
    unsealed_entries: int = Field(description="Entries written since the last seal")


class _PlanFields(_In):
    rate_bps: str | int = Field(description='Basis points as a decimal string ("60", "38.5") or an integer')
    minimum: Fen = 0
    cap: Fen | None = None
    refund_mode: RefundMode = RefundMode.PROPORTIONAL
    effective_from: AwareDatetime | None = Field(
        default=None, description="Now by default; never in the past"
    )
    effective_to: AwareDatetime | None = None


class FeePlanCreate(_PlanFields):
    merchant_id: Annotated[str, Field(max_length=40), NoNul] | None = Field(
        default=None, description="Null: the platform's default for the method"
    )
    method: Annotated[str, Field(max_length=32), NoNul]


class CostPlanCreate(_PlanFields):
    pass


class PlanEnd(_In):
    effective_to: AwareDatetime | None = Field(default=None, description="Now by default; never in the past")


class PlanPublic(BaseModel):
    id: str
    rate_bps: str
    minimum: int
    cap: int | None
    refund_mode: str
    effective_from: Instant
    effective_to: Instant | None
    created_by: str
    created_at: Instant
    merchant_id: str | None = None
    method: str | None = None
    channel_account_id: str | None = None


class PlansPublic(BaseModel):
    data: list[PlanPublic]
