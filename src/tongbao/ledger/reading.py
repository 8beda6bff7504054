"""Reading the ledger: balances (folded sum + the tail since, one statement), a merchant's balance
and balance transactions, and operators' lists of accounts, entries and postings."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tongbao.container import Container
from tongbao.db.statements import table_of
from tongbao.errors import NotFound
from tongbao.ledger.domain import MERCHANT_KINDS, Purpose, parse_account_id
from tongbao.ledger.journal import signed_sums
from tongbao.ledger.models import LedgerAccount, LedgerEntry, LedgerPosting
from tongbao.merchants.pagination import Cursor, Window, newest_first, page_body, take
from tongbao.money import CURRENCIES

_POSTINGS = table_of(LedgerPosting)
# What a merchant's balance shows, per currency.
MERCHANT_BALANCES = (Purpose.MERCHANT_PENDING, Purpose.MERCHANT_AVAILABLE, Purpose.MERCHANT_RESERVE)


async def balances_of(tx: AsyncSession, account_ids: list[str]) -> dict[str, int]:
    """Each account's balance on its normal side (0 for one never posted to)."""
    sums = await signed_sums(tx, account_ids)
    return {a: parse_account_id(a).balance_of(sums.get(a, 0)) for a in account_ids}


async def merchant_balance(c: Container, merchant_id: str) -> dict[str, Any]:
    ids = {
        (currency, purpose): f"merchant:{merchant_id}:{purpose}:{currency}"
        for currency in CURRENCIES
        for purpose in (*MERCHANT_BALANCES, Purpose.MERCHANT_RECEIVABLE)
    }
    async with c.uow() as tx:
        found = await balances_of(tx, list(ids.values()))
    by_currency: dict[str, dict[str, Any]] = defaultdict(dict)
    for (currency, purpose), account_id in ids.items():
        name = "owed_to_platform" if purpose is Purpose.MERCHANT_RECEIVABLE else purpose.value
        by_currency[currency][name] = found[account_id]
    return {"object": "balance", "balances": [{"currency": cur, **b} for cur, b in by_currency.items()]}


def entry_view(entry: LedgerEntry, postings: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    view: dict[str, Any] = {
        "id": entry.id,
        "kind": entry.kind,
        "idempotency_key": entry.idempotency_key,
        "currency": entry.currency,
        "merchant_id": entry.merchant_id,
        "payment_id": entry.payment_id,
        "attempt_id": entry.attempt_id,
        "refund_id": entry.refund_id,
        "case_id": entry.case_id,
        "gross": entry.gross,
        "fee": entry.fee,
        "net": entry.net,
        "channel_cost": entry.cost,
        "memo": entry.memo,
        "created_at": entry.created_at,
    }
    if postings is not None:
        view["postings"] = postings
    return view


def transaction_view(entry: LedgerEntry) -> dict[str, Any]:
    return {
        "id": entry.id,
        "type": entry.kind,
        "payment_id": entry.payment_id,
        "refund_id": entry.refund_id,
        "currency": entry.currency,
        "gross": entry.gross,
        "fee": entry.fee,
        "net": entry.net,
        "created_at": entry.created_at,
    }


async def balance_transactions(c: Container, merchant_id: str, window: Window) -> dict[str, Any]:
    """What moved the merchant's balance, newest first: each line's payment or refund, gross, fee
    and net."""
    # Reservations of Tongbao's own refunds (of captures the merchant never owned) name the merchant
    # but move none of its money: their gross is 0.
    stmt = select(LedgerEntry).where(
        LedgerEntry.merchant_id == merchant_id,
        LedgerEntry.kind.in_([k.value for k in MERCHANT_KINDS]),
        LedgerEntry.gross != 0,
    )
    async with c.uow() as tx:
        rows = list(await tx.scalars(newest_first(stmt, LedgerEntry.created_at, LedgerEntry.id, window)))
    piece = take(rows, window, lambda e: Cursor(e.created_at, e.id))
    return page_body([transaction_view(e) for e in piece.rows], piece)


async def postings_of(tx: AsyncSession, entry_ids: list[str]) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = defaultdict(list)
    if entry_ids:
        rows = await tx.execute(
            select(_POSTINGS.c.entry_id, _POSTINGS.c.account_id, _POSTINGS.c.amount)
            .where(_POSTINGS.c.entry_id.in_(entry_ids))
            .order_by(_POSTINGS.c.account_id)
        )
        for entry_id, account_id, amount in rows:
            found[entry_id].append({"account_id": account_id, "amount": int(amount)})
    return found


async def list_entries(c: Container, window: Window, filters: dict[str, str | None]) -> dict[str, Any]:
    stmt = select(LedgerEntry)
    for name, wanted in filters.items():
        if wanted is None:
            continue
        if name == "account_id":
            stmt = stmt.where(
                LedgerEntry.id.in_(select(_POSTINGS.c.entry_id).where(_POSTINGS.c.account_id == wanted))
            )
        else:
            stmt = stmt.where(getattr(LedgerEntry, name) == wanted)
    async with c.uow() as tx:
        rows = list(await tx.scalars(newest_first(stmt, LedgerEntry.created_at, LedgerEntry.id, window)))
        piece = take(rows, window, lambda e: Cursor(e.created_at, e.id))
        postings = await postings_of(tx, [e.id for e in piece.rows])
    return page_body([entry_view(e, postings[e.id]) for e in piece.rows], piece)


def account_view(account: LedgerAccount, balance: int) -> dict[str, Any]:
    return {
        "id": account.id,
        "purpose": account.purpose,
        "type": account.type,
        "currency": account.currency,
        "merchant_id": account.merchant_id,
        "channel_account_id": account.channel_account_id,
        "memo": account.memo,
        "no_negative": account.no_negative,
        "frozen": account.frozen,
        "frozen_reason": account.frozen_reason,
        "balance": balance,
        "created_at": account.created_at,
    }


async def show_account(c: Container, account_id: str) -> dict[str, Any]:
    async with c.uow() as tx:
        account = await tx.get(LedgerAccount, account_id)
        if account is None:
            raise NotFound("no such ledger account", code="account_not_found", param="account_id")
        balance = (await balances_of(tx, [account_id]))[account_id]
    return account_view(account, balance)


async def show_entry(c: Container, entry_id: str) -> dict[str, Any]:
    async with c.uow() as tx:
        entry = await tx.get(LedgerEntry, entry_id)
        if entry is None:
            raise NotFound("no such ledger entry", code="entry_not_found", param="entry_id")
        postings = await postings_of(tx, [entry_id])
    return entry_view(entry, postings[entry_id])
