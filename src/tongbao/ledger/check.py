"""``tongbao ledger check``: the journal's invariants, recomputed from the postings themselves.

Each entry balances in the real book and in the memo book and has two postings at least; each
posting's account is in the entry's currency; Σ debits = Σ credits per currency; each account's
balance (folded + tail) equals the sum of its postings; no no-negative account is below zero; and
the internal reconciliation finds nothing."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from tongbao.db.statements import table_of
from tongbao.ledger.domain import parse_account_id
from tongbao.ledger.internal_recon import differences
from tongbao.ledger.journal import signed_sums
from tongbao.ledger.models import LedgerAccount, LedgerEntry, LedgerPosting

_P = table_of(LedgerPosting)
_A = table_of(LedgerAccount)
_E = table_of(LedgerEntry)


@dataclass
class Report:
    entries: int = 0
    accounts: int = 0
    problems: list[str] = field(default_factory=list)
    totals: dict[str, int] = field(default_factory=dict)  # Σ debits per currency (= Σ credits)

    @property
    def ok(self) -> bool:
        return not self.problems


async def _entries(tx: AsyncSession, report: Report) -> None:
    rows = await tx.execute(
        select(
            _P.c.entry_id,
            func.count(),
            func.sum(case((_A.c.memo.is_(False), _P.c.amount), else_=0)),
            func.sum(case((_A.c.memo.is_(True), _P.c.amount), else_=0)),
            func.sum(case((_A.c.currency != _E.c.currency, 1), else_=0)),
        )
        .join(_A, _A.c.id == _P.c.account_id)
        .join(_E, _E.c.id == _P.c.entry_id)
        .group_by(_P.c.entry_id)
    )
    seen = set()
    for entry_id, n, real, memo, foreign in rows:
        seen.add(entry_id)
        if n < 2:
            report.problems.append(f"entry {entry_id}: {n} posting(s), an entry has two at least")
        if int(real or 0) != 0:
            report.problems.append(f"entry {entry_id}: its postings sum to {int(real)}, not 0")
        if int(memo or 0) != 0:
            report.problems.append(f"entry {entry_id}: its memo postings sum to {int(memo)}, not 0")
        if int(foreign or 0):
            report.problems.append(f"entry {entry_id}: posts to an account in another currency")
    for entry_id in await tx.scalars(select(_E.c.id)):
        report.entries += 1
        if entry_id not in seen:
            report.problems.append(f"entry {entry_id}: has no postings")
    debits = await tx.execute(
        select(_A.c.currency, func.sum(case((_P.c.amount > 0, _P.c.amount), else_=0)), func.sum(_P.c.amount))
        .join(_A, _A.c.id == _P.c.account_id)
        .group_by(_A.c.currency)
    )
    for currency, debit, net in debits:
        report.totals[currency] = int(debit or 0)
        if int(net or 0) != 0:
            report.problems.append(f"{currency}: debits and credits differ by {int(net)}")


async def _balances(tx: AsyncSession, report: Report) -> None:
    recomputed = dict(
        (await tx.execute(select(_P.c.account_id, func.sum(_P.c.amount)).group_by(_P.c.account_id))).all()
    )
    accounts = list(await tx.scalars(select(_A.c.id).order_by(_A.c.id)))
    report.accounts = len(accounts)
    for chunk in range(0, len(accounts), 500):
        ids = accounts[chunk : chunk + 500]
        current = await signed_sums(tx, ids)
        for account_id in ids:
            account = parse_account_id(account_id)
            from_postings = int(recomputed.get(account_id) or 0)
            held = current.get(account_id)
            if held is None:
                report.problems.append(f"account {account_id}: has no balance row")
                continue
            if held != from_postings:
                report.problems.append(
                    f"account {account_id}: balance {account.balance_of(held)}, "
                    f"its postings add up to {account.balance_of(from_postings)}"
                )
            if account.no_negative and account.balance_of(from_postings) < 0:
                report.problems.append(
                    f"account {account_id}: {account.balance_of(from_postings)}, below zero"
                )


async def check(tx: AsyncSession) -> Report:
    report = Report()
    await _entries(tx, report)
    await _balances(tx, report)
    findings = await differences(tx)
    report.problems += [f"internal recon: {d.kind}: {d.message}" for d in findings.differences or []]
    return report
