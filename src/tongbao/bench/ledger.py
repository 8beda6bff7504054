"""``tongbao bench ledger``: journal entries per second through the posting path, and whether one hot
merchant is as fast as a thousand.

Each operation is what a capture does to the ledger in production: one unit of work publishes a
``PaymentSucceeded`` and commits, and the ledger's handler (``tongbao.bootstrap``) looks the fee and
cost plans up, opens the accounts it has never seen and writes the entry and its postings, retried
as the payment path retries a deadlock or a serialisation failure. Nothing else is written, so the
figure is the ledger's own. Two scenarios at the same concurrency, one after the other: ``spread``
(each capture is one of a thousand merchants') and ``hot`` (every capture is one merchant's). Writers
only append, so the hot merchant should lose little; ``ratio`` = hot / spread says how much it does.

The balance folder runs every second meanwhile, as a worker runs it. At the end the captures seen
committed are written as their payments (``ledger_books``) and ``ledger check`` runs: every entry
balanced, every balance the sum of its postings, every payment with exactly one capture entry and
the plan's fee, no entry without its payment. Any problem fails the run: nothing may be lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import tempfile
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from rich.table import Table
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from tongbao.bootstrap import build_container
from tongbao.channels.kinds import Channel
from tongbao.config import Settings
from tongbao.container import Container
from tongbao.db import migrate
from tongbao.db.retry import retrying
from tongbao.db.uow import publish
from tongbao.ids import new_id
from tongbao.ledger.check import Report, check
from tongbao.ledger.jobs import fold_balances
from tongbao.merchants.domain.channel_accounts import AccountMode
from tongbao.payments.domain import PaymentSucceeded
from tongbao.rules import Refused
from tongbao.security.master_key import MasterKey, load_master_key
from tongbao.security.secretbox import decode_master_key, generate_master_key

from .ledger_books import METHOD, Books, open_books, record_trades
from .load import OperationFailed, Round, run_round
from .local import bench_database, database_kind

MERCHANTS: Final = 1_000
AMOUNTS: Final = (100, 100_000)  # fen, per capture
CURRENCY: Final = "CNY"
UNBOUNDED: Final = 10**9  # rounds end on time, not on a count
SHOWN_PROBLEMS: Final = 20
OPENING_S: Final = 120.0  # at most, for every merchant's first capture


@dataclass(frozen=True)
class Options:
    concurrency: int = 16
    seconds: float = 8.0  # per scenario
    warmup_s: float = 2.0  # per scenario, not measured
    merchants: int = MERCHANTS
    fold_every_s: float = 1.0


@dataclass(frozen=True)
class Scenario:
    name: str
    merchant_ids: tuple[str, ...]  # each capture is one of theirs, picked at random
    in_turn: bool = False  # or each in turn: the n-th capture is the (n mod count)-th merchant's

    def merchant(self, number: int, rng: random.Random) -> str:
        if self.in_turn:
            return self.merchant_ids[number % len(self.merchant_ids)]
        return rng.choice(self.merchant_ids)


@dataclass
class Measured:
    scenario: Scenario
    round: Round
    tries: int  # transactions begun, retries included

    @property
    def retries(self) -> int:
        return self.tries - self.round.completed - self.round.error_count


@dataclass
class Folder:
    """The worker's periodic fold (``ledger.fold``), run beside the writers."""

    runs: int = 0
    failures: Counter[str] = field(default_factory=Counter)

    async def every(self, c: Container, period_s: float, stop: asyncio.Event) -> None:
        while not stop.is_set():
            await self.once(c)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), period_s)

    async def once(self, c: Container) -> None:
        try:
            await fold_balances(c)
        except SQLAlchemyError as exc:
            self.failures[_short(exc)] += 1
        else:
            self.runs += 1


@dataclass
class Outcome:
    options: Options
    books: Books
    rounds: list[Measured]
    warmup_operations: int
    committed: list[PaymentSucceeded]
    folder: Folder
    report: Report

    def of(self, name: str) -> Measured:
        return next(m for m in self.rounds if m.scenario.name == name)

    @property
    def ratio(self) -> float:
        spread = self.of("spread").round.per_s
        return self.of("hot").round.per_s / spread if spread else 0.0

    @property
    def problems(self) -> list[str]:
        folds = [f"the balance folder failed ×{n}: {kind}" for kind, n in self.folder.failures.items()]
        return folds + self.report.problems


def _short(exc: SQLAlchemyError) -> str:
    """What failed, free of ids: the driver's error class and SQLSTATE."""
    if isinstance(exc, DBAPIError):
        state = getattr(exc.orig, "sqlstate", None)
        return type(exc.orig).__name__ + (f" ({state})" if state else "")
    return type(exc).__name__


class Poster:
    """One round's operation: a capture of one of the scenario's merchants, posted in its own unit
    of work; those seen committed are kept, to be written as their payments afterwards."""

    def __init__(
        self, c: Container, books: Books, scenario: Scenario, committed: list[PaymentSucceeded]
    ) -> None:
        self.c, self.books, self.scenario, self.committed = c, books, scenario, committed
        self.rng = random.Random()  # noqa: S311 - amounts and merchants to post, not secrets
        self.tries = 0  # transactions begun, retries included

    def _event(self, number: int) -> PaymentSucceeded:
        return PaymentSucceeded(
            at=self.c.clock.now(),
            payment_id=new_id("payment"),
            merchant_id=self.scenario.merchant(number, self.rng),
            attempt_id=new_id("attempt"),
            amount=self.rng.randint(*AMOUNTS),
            currency=CURRENCY,
            method=METHOD.value,
            channel=Channel.WECHATPAY.value,
            channel_account_id=self.books.channel_account_id,
            account_mode=AccountMode.SHARED.value,
        )

    async def __call__(self, number: int) -> None:
        event = self._event(number)

        async def once() -> None:
            self.tries += 1
            async with self.c.uow() as tx:
                publish(tx, [event])
                await tx.commit()  # the ledger's handler posts the entry here

        try:
            await retrying(once)  # as the payment path applies a capture
        except Refused as exc:
            raise OperationFailed(f"ledger refused: {exc.code}") from exc
        except SQLAlchemyError as exc:
            raise OperationFailed(_short(exc)) from exc
        self.committed.append(event)


@dataclass
class Rounds:
    """The rounds of one run, on one set of books; every capture they commit is kept."""

    c: Container
    books: Books
    concurrency: int
    committed: list[PaymentSucceeded] = field(default_factory=list)

    async def run(self, scenario: Scenario, seconds: float, count: int = UNBOUNDED) -> Measured:
        poster = Poster(self.c, self.books, scenario, self.committed)
        done = await run_round(poster, self.concurrency, seconds, count)
        return Measured(scenario, done, poster.tries)


async def measure(c: Container, options: Options, progress: Callable[[str], None]) -> Outcome:
    progress(f"opening the books: {options.merchants} merchants, a channel account, fee and cost plans")
    books = await open_books(c, options.merchants)
    scenarios = [Scenario("spread", books.merchant_ids), Scenario("hot", books.merchant_ids[:1])]
    rounds = Rounds(c, books, options.concurrency)
    folder, stop = Folder(), asyncio.Event()
    folding = asyncio.create_task(folder.every(c, options.fold_every_s, stop))
    try:
        warmup = 0
        if options.warmup_s > 0:
            # Every merchant's first capture opens its accounts; in production they are long open.
            progress(f"warming up: one capture for each of the {options.merchants} merchants")
            opening = Scenario("opening", books.merchant_ids, in_turn=True)
            warmup += (await rounds.run(opening, OPENING_S, options.merchants)).round.completed
            for scenario in scenarios:
                progress(f"warming up: {scenario.name}, {options.warmup_s:g} s")
                warmup += (await rounds.run(scenario, options.warmup_s)).round.completed
        measured = []
        for scenario in scenarios:
            progress(f"{scenario.name}: {options.concurrency} clients for {options.seconds:g} s")
            measured.append(await rounds.run(scenario, options.seconds))
    finally:
        stop.set()
        await folding
    await folder.once(c)  # what the last run left behind, as the worker's next one would
    progress(f"writing the {len(rounds.committed)} captured payments, then ledger check")
    await record_trades(c, books, rounds.committed)
    async with c.uow() as tx:
        report = await check(tx)
    return Outcome(options, books, measured, warmup, rounds.committed, folder, report)


def _key(settings: Settings) -> MasterKey:
    """The environment's key when there is one (a given database may hold its secrets), else one
    that lives as long as the run: it only seals the bench's channel account, never called."""
    if settings.master_key:
        return load_master_key(settings, allow_demo_file=False, create_demo_file=False)
    return MasterKey(decode_master_key(generate_master_key()), "bench run")


def run(settings: Settings, database_url: str, options: Options, progress: Callable[[str], None]) -> Outcome:
    """The schema brought to head, then the bench in one process, on a pool for every client and
    the folder."""
    migrate.upgrade(database_url)
    settings = settings.model_copy(
        update={"database_url": database_url, "db_pool_size": options.concurrency + 2, "db_max_overflow": 0}
    )

    async def go() -> Outcome:
        c = build_container(settings, _key(settings))
        try:
            return await measure(c, options, progress)
        finally:
            await c.aclose()

    return asyncio.run(go())


@contextmanager
def database(given: str | None) -> Iterator[str]:
    """The given database as it is; else a scratch one (``bench.local``), gone after the block."""
    if given:
        yield given
        return
    with tempfile.TemporaryDirectory(prefix="tongbao-bench-") as tmp, bench_database(Path(tmp)) as url:
        yield url


def _scenario_figures(m: Measured) -> dict[str, Any]:
    r = m.round
    return {
        "merchants": len(m.scenario.merchant_ids),
        "operations": r.completed,
        "errors": r.error_count,
        "error_kinds": dict(r.errors),
        "retries": m.retries,
        "duration_s": round(r.elapsed_s, 3),
        "entries_per_s": round(r.per_s, 1),
        "p50_ms": round(r.p50_ms, 1),
        "p99_ms": round(r.p99_ms, 1),
    }


def summary(outcome: Outcome, database_url: str) -> dict[str, Any]:
    spread, hot = outcome.of("spread"), outcome.of("hot")
    report = outcome.report
    return {
        "bench": "ledger",
        "database": database_kind(database_url),
        "spread_entries_per_s": round(spread.round.per_s, 1),
        "hot_entries_per_s": round(hot.round.per_s, 1),
        "ratio": round(outcome.ratio, 3),
        "concurrency": outcome.options.concurrency,
        "seconds": outcome.options.seconds,
        "warmup_seconds": outcome.options.warmup_s,
        "errors": spread.round.error_count + hot.round.error_count,
        "spread": _scenario_figures(spread),
        "hot": _scenario_figures(hot),
        "warmup_operations": outcome.warmup_operations,
        "entries_posted": len(outcome.committed),
        "fee_plan_id": outcome.books.fee_plan_id,
        "cost_plan_id": outcome.books.cost_plan_id,
        "folds": outcome.folder.runs,
        "check": {
            "ok": not outcome.problems,
            "entries": report.entries,
            "accounts": report.accounts,
            "debits": report.totals,
            "problems": outcome.problems[:SHOWN_PROBLEMS],
            "problem_count": len(outcome.problems),
        },
    }


def table(outcome: Outcome, database_url: str) -> Table:
    o, report = outcome.options, outcome.report
    verdict = "every invariant holds" if not outcome.problems else f"{len(outcome.problems)} problem(s)"
    t = Table(
        title=(
            f"tongbao bench ledger ({database_kind(database_url)}, {o.concurrency} clients, "
            f"{o.seconds:g} s per scenario)"
        ),
        caption=(
            f"ratio hot / spread = {outcome.ratio:.2f}; folded ×{outcome.folder.runs}; ledger check: "
            f"{report.entries} entries, {report.accounts} accounts, {verdict}"
        ),
    )
    for name in ("scenario", "merchants", "entries/s", "p50 ms", "p99 ms", "done", "errors", "retries"):
        t.add_column(name, justify="right")
    for m in outcome.rounds:
        r = m.round
        errors = ", ".join(f"{kind} ×{count}" for kind, count in r.errors.most_common(3)) or "0"
        t.add_row(
            m.scenario.name,
            str(len(m.scenario.merchant_ids)),
            f"{r.per_s:.1f}",
            f"{r.p50_ms:.1f}",
            f"{r.p99_ms:.1f}",
            str(r.completed),
            errors,
            str(m.retries),
        )
    return t
