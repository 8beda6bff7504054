"""The ledger listens: each money event of payments and refunds becomes its entry, in the event's own
transaction (registered in ``tongbao.bootstrap``). What an event means in accounts is the posting
rules' business; here are only the facts they need, read from the event and the journal."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import bindparam, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from tongbao.db.statements import table_of
from tongbao.db.uow import EventHandlers
from tongbao.ledger import journal
from tongbao.ledger.domain import EntryDraft, EntryKind, FeeRule, Figures, Posting, Refs, parse_account_id
from tongbao.ledger.domain import posting_rules as rules
from tongbao.ledger.models import LedgerEntry, LedgerPosting
from tongbao.ledger.plans import cost_rule, fee_rule
from tongbao.merchants.domain.channel_accounts import AccountMode
from tongbao.money import CURRENCIES
from tongbao.payments.domain import CaptureDuplicated, CaptureLate, CaptureMismatched, PaymentSucceeded
from tongbao.payments.domain.events import CaptureEvent
from tongbao.payments.models import Payment, PaymentAttempt
from tongbao.refunds.domain import (
    RefundContested,
    RefundContestWithdrawn,
    RefundEvent,
    RefundFailed,
    RefundKind,
    RefundOpened,
    RefundSucceeded,
)

_ENTRIES = table_of(LedgerEntry)
_POSTINGS = table_of(LedgerPosting)


def register(handlers: EventHandlers) -> None:
    handlers.on(PaymentSucceeded, payment_succeeded)
    handlers.on(CaptureDuplicated, capture_unowned)
    handlers.on(CaptureLate, capture_unowned)
    handlers.on(CaptureMismatched, capture_mismatched)
    handlers.on(RefundOpened, refund_reserved)
    handlers.on(RefundContested, refund_reserved)  # a failed refund reported succeeded: reserved again
    handlers.on(RefundSucceeded, refund_succeeded)
    handlers.on(RefundFailed, refund_released)
    handlers.on(RefundContestWithdrawn, refund_released)


# -- what the journal already says about an attempt and a refund -------------------------------------

_BY_ATTEMPT = (
    select(
        _ENTRIES.c.kind,
        func.count(),
        func.coalesce(func.sum(_ENTRIES.c.gross), 0),
        func.coalesce(func.sum(_ENTRIES.c.fee), 0),
        func.coalesce(func.sum(_ENTRIES.c.cost), 0),
    )
    .where(_ENTRIES.c.attempt_id == bindparam("attempt_id"))
    .group_by(_ENTRIES.c.kind)
)


@dataclass
class Sums:
    count: int = 0
    gross: int = 0
    fee: int = 0
    cost: int = 0


async def _by_kind(tx: AsyncSession, attempt_id: str) -> dict[str, Sums]:
    rows = await tx.execute(_BY_ATTEMPT, {"attempt_id": attempt_id})
    return {kind: Sums(int(n), int(g), int(f), int(c)) for kind, n, g, f, c in rows}


def _total(sums: dict[str, Sums], *kinds: EntryKind) -> Sums:
    out = Sums()
    for kind in kinds:
        part = sums.get(kind.value, Sums())
        out.count += part.count
        out.gross += part.gross
        out.fee += part.fee
        out.cost += part.cost
    return out


def _capture(event: CaptureEvent | CaptureMismatched, amount: int, currency: str) -> rules.Capture:
    return rules.Capture(
        merchant_id=event.merchant_id,
        payment_id=event.payment_id,
        attempt_id=event.attempt_id,
        channel_account_id=event.channel_account_id,
        own=event.account_mode == AccountMode.OWN,
        amount=amount,
        currency=currency,
        at=event.at,
    )


# -- captures ----------------------------------------------------------------------------------------


async def payment_succeeded(tx: AsyncSession, event: PaymentSucceeded) -> None:
    fees = await fee_rule(tx, event.merchant_id, event.method, event.at)
    fee = fees.charge(event.amount)
    unowned = (await _by_kind(tx, event.attempt_id)).get(EntryKind.CAPTURE_UNOWNED.value)
    if unowned is None:
        cost = (await cost_rule(tx, event.channel_account_id, event.at)).charge(event.amount)
        await journal.post(
            tx, rules.payment_captured(_capture(event, event.amount, event.currency), fee=fee, cost=cost)
        )
        return
    # Late, or an accepted mismatch: the capture waited in suspense.
    await journal.post(
        tx, rules.capture_taken(_capture(event, event.amount, event.currency), fee=fee, held=unowned.gross)
    )


async def capture_unowned(tx: AsyncSession, event: CaptureDuplicated | CaptureLate) -> None:
    cost = (await cost_rule(tx, event.channel_account_id, event.at)).charge(event.amount)
    await journal.post(tx, rules.capture_unowned(_capture(event, event.amount, event.currency), cost=cost))


async def capture_mismatched(tx: AsyncSession, event: CaptureMismatched) -> None:
    """Money the channel reports captured under another amount waits in suspense; a report of no
    amount, or of a currency Tongbao does not keep, moves nothing (the case holds the evidence)."""
    if event.amount is None or event.currency != event.expected_currency or event.currency not in CURRENCIES:
        return
    cost = (await cost_rule(tx, event.channel_account_id, event.at)).charge(event.amount)
    capture = _capture(event, event.amount, event.currency)
    await journal.post(tx, rules.capture_unowned(capture, cost=cost))


# -- refunds -----------------------------------------------------------------------------------------


async def _facts(tx: AsyncSession, event: RefundEvent) -> rules.RefundFacts:
    attempt = await tx.get(PaymentAttempt, event.attempt_id)
    assert attempt is not None
    return rules.RefundFacts(
        refund_id=event.refund_id,
        merchant_id=event.merchant_id,
        payment_id=event.payment_id,
        attempt_id=event.attempt_id,
        channel_account_id=event.channel_account_id,
        own=attempt.account_mode == AccountMode.OWN,
        unowned=event.kind != RefundKind.MERCHANT,
        amount=event.amount,
        currency=event.currency,
        at=event.at,
        case_id=event.case_id,
    )


_OF_REFUND = (
    select(_ENTRIES.c.id, _ENTRIES.c.kind, _ENTRIES.c.idempotency_key)
    .where(_ENTRIES.c.refund_id == bindparam("refund_id"))
    .order_by(_ENTRIES.c.commit_key, _ENTRIES.c.id)
)


@dataclass(frozen=True)
class Reservations:
    reserved: int  # how many times the refund was reserved
    released: int
    live_entry_id: str | None  # the reservation standing now
    succeeded: bool


async def _reservations(tx: AsyncSession, refund_id: str) -> Reservations:
    rows = (await tx.execute(_OF_REFUND, {"refund_id": refund_id})).all()
    reserved = [r for r in rows if r.kind == EntryKind.REFUND_RESERVED]
    released = [r for r in rows if r.kind == EntryKind.REFUND_RELEASED]
    succeeded = any(r.kind == EntryKind.REFUND_SUCCEEDED for r in rows)
    live = reserved[-1].id if len(reserved) > len(released) and not succeeded else None
    return Reservations(len(reserved), len(released), live, succeeded)


async def refund_reserved(tx: AsyncSession, event: RefundOpened | RefundContested) -> None:
    await _reserve(tx, event, await _reservations(tx, event.refund_id))


@dataclass(frozen=True)
class FeeStanding:
    """A payment's fee as the journal has it: the plan that charged it, what it charged of the
    captured gross, and the live refunds (reserved, not released) with the fee they gave back."""

    plan: FeeRule
    charged: int
    gross: int
    refunded: int
    given: int


async def _fee_standing(tx: AsyncSession, event: RefundEvent) -> FeeStanding:
    sums = await _by_kind(tx, event.attempt_id)
    charged = _total(sums, EntryKind.PAYMENT_CAPTURED, EntryKind.CAPTURE_TAKEN)
    refunds = _total(sums, EntryKind.REFUND_RESERVED, EntryKind.REFUND_RELEASED)
    payment = await tx.get(Payment, event.payment_id)
    assert payment is not None and payment.captured_amount is not None
    attempt = await tx.get(PaymentAttempt, event.attempt_id)
    assert attempt is not None
    plan = await fee_rule(tx, event.merchant_id, attempt.method, payment.succeeded_at or event.at)
    return FeeStanding(plan, charged.fee, payment.captured_amount, -refunds.gross, -refunds.fee)


async def _reserve(tx: AsyncSession, event: RefundEvent, standing: Reservations) -> None:
    if standing.live_entry_id is not None or standing.succeeded:
        return
    facts = await _facts(tx, event)
    fee_back = 0
    if not facts.unowned:
        fees = await _fee_standing(tx, event)
        fee_back = fees.plan.given_back(fees.charged, fees.gross, fees.refunded + event.amount, fees.given)
    await journal.post(tx, rules.refund_reserved(facts, fee_back=fee_back, n=standing.reserved + 1))


async def _reservation(tx: AsyncSession, entry_id: str) -> EntryDraft:
    """A reservation as written, to be undone."""
    row = (await tx.execute(select(_ENTRIES).where(_ENTRIES.c.id == entry_id))).one()
    postings = await tx.execute(
        select(_POSTINGS.c.account_id, _POSTINGS.c.amount).where(_POSTINGS.c.entry_id == entry_id)
    )
    return EntryDraft(
        kind=EntryKind(row.kind),
        key=row.idempotency_key,
        currency=row.currency,
        at=row.created_at,
        postings=tuple(Posting(parse_account_id(a), int(amount)) for a, amount in postings),
        refs=Refs(row.merchant_id, row.payment_id, row.attempt_id, row.refund_id, row.case_id),
        figures=Figures(row.gross, row.fee, row.cost),
    )


async def refund_released(tx: AsyncSession, event: RefundFailed | RefundContestWithdrawn) -> None:
    standing = await _reservations(tx, event.refund_id)
    if standing.live_entry_id is None:
        return
    reservation = await _reservation(tx, standing.live_entry_id)
    fee_back = 0
    if event.kind == RefundKind.MERCHANT:
        fees = await _fee_standing(tx, event)
        fee_back = fees.plan.taken_back(fees.charged, fees.gross, fees.refunded - event.amount, fees.given)
    released = rules.refund_released(reservation, fee_back=fee_back, n=standing.released + 1, at=event.at)
    await journal.post(tx, released)


async def refund_succeeded(tx: AsyncSession, event: RefundSucceeded) -> None:
    standing = await _reservations(tx, event.refund_id)
    if standing.succeeded:
        return
    if standing.live_entry_id is None:
        # Never reserved (written before the ledger kept reservations): reserved now, then sent.
        await _reserve(tx, event, standing)
    facts = await _facts(tx, event)
    attempt = await tx.get(PaymentAttempt, event.attempt_id)
    assert attempt is not None and attempt.paid_amount is not None
    sums = await _by_kind(tx, event.attempt_id)
    charged = _total(sums, EntryKind.PAYMENT_CAPTURED, EntryKind.CAPTURE_UNOWNED, EntryKind.CAPTURE_TAKEN)
    returned = _total(sums, EntryKind.REFUND_SUCCEEDED)
    paid_at = attempt.finished_at or event.at
    plan = await cost_rule(tx, event.channel_account_id, paid_at)
    cost_back = plan.given_back(
        charged.cost, attempt.paid_amount, -returned.gross + event.amount, -returned.cost
    )
    await journal.post(tx, rules.refund_succeeded(facts, cost_back=cost_back))
