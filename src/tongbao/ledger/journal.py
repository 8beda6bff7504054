"""Writing entries: the one path by which money moves in the ledger, inside the caller's transaction.

``post`` refuses, by itself and whoever calls it, an entry that does not balance, one in mixed
currencies, a posting to a frozen account, and a debit that would take a no-negative account below
zero; the refusal (``LedgerRefused``) rolls the whole business transaction back.

Writers append and never update a shared row: a payment's entry touches fee revenue and the channel
receivable like every other payment's, and a hot merchant's pending like its other payments, yet no
two writers wait for each other. Balances are folded in batches (``folding``); only a debit of a
no-negative account locks that account's balance row, to read it and check.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from tongbao.db.statements import Executor, insert_for, per_dialect, table_of
from tongbao.ids import new_id
from tongbao.ledger.commit_keys import entry_key_sql
from tongbao.ledger.domain import Account, EntryDraft, LedgerRefused, Posting, check_entry
from tongbao.ledger.models import LedgerAccount, LedgerBalance, LedgerEntry, LedgerPosting

_ACCOUNTS = table_of(LedgerAccount)
_BALANCES = table_of(LedgerBalance)
_ENTRIES = table_of(LedgerEntry)
_POSTINGS = table_of(LedgerPosting)

_KNOWN = select(_ACCOUNTS.c.id, _ACCOUNTS.c.frozen).where(
    _ACCOUNTS.c.id.in_(bindparam("ids", expanding=True))
)


@per_dialect
def _new_accounts(dialect: str) -> Any:
    return insert_for(dialect, _ACCOUNTS).on_conflict_do_nothing(index_elements=["id"])


@per_dialect
def _new_balances(dialect: str) -> Any:
    return insert_for(dialect, _BALANCES).on_conflict_do_nothing(index_elements=["account_id"])


@per_dialect
def _new_entry(dialect: str) -> Any:
    columns = [c.name for c in _ENTRIES.columns if c.name != "commit_key"]
    placeholders = ", ".join(f":{c}" for c in columns)
    # Column names come from our own table, never from input.
    return text(
        f"INSERT INTO ledger_entries ({', '.join(columns)}, commit_key) "  # noqa: S608
        f"VALUES ({placeholders}, {entry_key_sql(dialect)}) "
        "ON CONFLICT (idempotency_key) DO NOTHING RETURNING commit_key"
    ).bindparams(bindparam("created_at", type_=_ENTRIES.c.created_at.type))


_LOCK_BALANCES = (
    select(_BALANCES.c.account_id)
    .where(_BALANCES.c.account_id.in_(bindparam("ids", expanding=True)))
    .order_by(_BALANCES.c.account_id)
    .with_for_update()
)

# Folded sum plus the postings committed since: one statement, so one snapshot of both.
_SUMS = text(
    "SELECT b.account_id, b.folded + COALESCE(("
    " SELECT SUM(p.amount) FROM ledger_postings p WHERE p.account_id = b.account_id AND p.commit_key >="
    " COALESCE((SELECT w.value FROM ledger_watermarks w WHERE w.name = 'folded'), 0)), 0)"
    " FROM ledger_balances b WHERE b.account_id IN :ids"
).bindparams(bindparam("ids", expanding=True))


async def signed_sums(tx: Executor, account_ids: list[str]) -> dict[str, int]:
    """Each account's Σ of signed postings (debits positive), folded or not; absent: never posted."""
    if not account_ids:
        return {}
    rows = await tx.execute(_SUMS, {"ids": account_ids})
    return {account_id: int(total) for account_id, total in rows}


def _account_row(account: Account, now: Any) -> dict[str, Any]:
    return {
        "id": account.id,
        "purpose": account.purpose.value,
        "type": account.type.value,
        "currency": account.currency,
        "merchant_id": account.merchant_id,
        "channel_account_id": account.channel_account_id,
        "memo": account.memo,
        "no_negative": account.no_negative,
        "frozen": False,
        "frozen_reason": None,
        "created_at": now,
        "updated_at": now,
    }


async def _open_accounts(tx: AsyncSession, postings: tuple[Posting, ...], draft: EntryDraft) -> None:
    """Creates the accounts never posted to before, and refuses a frozen one."""
    ids = [p.account.id for p in postings]
    known = dict((await tx.execute(_KNOWN, {"ids": ids})).all())
    frozen = [account_id for account_id, is_frozen in known.items() if is_frozen]
    if frozen:
        raise LedgerRefused("account_frozen", None, f"entry {draft.key}: account {frozen[0]} is frozen")
    missing = [p.account for p in postings if p.account.id not in known]
    if missing:
        await tx.execute(_new_accounts(tx), [_account_row(a, draft.at) for a in missing])
        await tx.execute(_new_balances(tx), [{"account_id": a.id, "folded": 0} for a in missing])


async def _check_debits(tx: AsyncSession, postings: tuple[Posting, ...], draft: EntryDraft) -> None:
    """A posting that lowers a no-negative account must find the money there; the account's
    balance row is locked so that two such debits are counted one after the other."""
    lowering = [p for p in postings if p.account.no_negative and p.account.balance_of(p.amount) < 0]
    if not lowering:
        return
    ids = [p.account.id for p in lowering]
    await tx.execute(_LOCK_BALANCES, {"ids": ids})
    sums = await signed_sums(tx, ids)
    for posting in lowering:
        before = posting.account.balance_of(sums.get(posting.account.id, 0))
        after = before + posting.account.balance_of(posting.amount)
        if after < 0:
            raise LedgerRefused(
                "balance_insufficient",
                None,
                f"entry {draft.key} would take account {posting.account.id} from {before} to {after}",
            )


async def post(tx: AsyncSession, draft: EntryDraft) -> str | None:
    """Writes the entry in the caller's transaction and returns its id; None when an entry with its
    idempotency key exists already (the same event posted again)."""
    postings = check_entry(draft)
    await tx.flush()  # the business rows first: on SQLite that takes the write lock before the key
    await _open_accounts(tx, postings, draft)
    await _check_debits(tx, postings, draft)
    entry_id = new_id("ledger_entry")
    refs, figures = draft.refs, draft.figures
    key = await tx.scalar(
        _new_entry(tx),
        {
            "id": entry_id,
            "kind": draft.kind.value,
            "idempotency_key": draft.key,
            "currency": draft.currency,
            "merchant_id": refs.merchant_id,
            "payment_id": refs.payment_id,
            "attempt_id": refs.attempt_id,
            "refund_id": refs.refund_id,
            "case_id": refs.case_id,
            "gross": figures.gross,
            "fee": figures.fee,
            "net": figures.net,
            "cost": figures.cost,
            "memo": draft.memo[:200],
            "created_at": draft.at,
        },
    )
    if key is None:
        return None
    await tx.execute(
        _POSTINGS.insert(),
        [
            {"entry_id": entry_id, "account_id": p.account.id, "amount": p.amount, "commit_key": key}
            for p in postings
        ],
    )
    return entry_id
