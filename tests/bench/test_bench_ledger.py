"""``tongbao bench ledger`` with tiny numbers: both scenarios measured through the posting path, every
entry reported is in the journal, and books that were wrong before the run fail it."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from tongbao.db import migrate

from .conftest import figures_of, run_bench, run_command

TINY = ("--concurrency", "4", "--seconds", "0.5")


def _query(url: str, sql: str, params: dict[str, Any] | None = None) -> Any:
    async def go() -> Any:
        engine = create_async_engine(url)
        try:
            async with engine.begin() as conn:
                result = await conn.execute(text(sql), params or {})
                return result.scalar() if result.returns_rows else None
        finally:
            await engine.dispose()

    return asyncio.run(go())


@pytest.mark.slow
def test_spread_and_hot_captures_are_measured_and_every_one_is_in_the_journal(database_url: str) -> None:
    figures = run_bench(
        database_url, "ledger", "--database-url", database_url, *TINY, "--warmup-seconds", "0"
    )

    assert figures["errors"] == 0
    check = figures["check"]
    assert check["ok"] and check["problems"] == [] and check["problem_count"] == 0
    assert check["entries"] == figures["entries_posted"]
    assert figures["spread_entries_per_s"] > 0 and figures["hot_entries_per_s"] > 0
    assert figures["ratio"] == pytest.approx(
        figures["hot_entries_per_s"] / figures["spread_entries_per_s"], rel=0.01
    )
    spread, hot = figures["spread"], figures["hot"]
    assert (spread["merchants"], hot["merchants"]) == (1000, 1)
    for scenario in (spread, hot):
        assert scenario["operations"] >= 1 and scenario["errors"] == 0
        assert 0 < scenario["p50_ms"] <= scenario["p99_ms"]
        assert scenario["entries_per_s"] == pytest.approx(
            scenario["operations"] / scenario["duration_s"], 0.01
        )
    assert figures["concurrency"] == 4 and figures["folds"] >= 1
    posted = spread["operations"] + hot["operations"] + figures["warmup_operations"]
    assert figures["entries_posted"] == posted
    # Counted in the database itself: one capture entry per operation, each with the plan's fee.
    assert _query(database_url, "SELECT COUNT(*) FROM ledger_entries") == posted
    assert (
        _query(database_url, "SELECT COUNT(*) FROM ledger_entries WHERE kind = 'payment_captured'") == posted
    )
    assert _query(database_url, "SELECT COUNT(*) FROM ledger_entries WHERE fee <= 0 OR cost <= 0") == 0
    assert _query(database_url, "SELECT COUNT(DISTINCT merchant_id) FROM ledger_entries") > 1


@pytest.mark.slow
def test_books_already_wrong_fail_the_run(database_url: str) -> None:
    migrate.upgrade(database_url)
    _query(
        database_url,
        "INSERT INTO ledger_entries (id, commit_key, kind, idempotency_key, currency, gross, fee, net, cost,"
        " memo, created_at) VALUES ('le_broken', 1, 'payment_captured', 'broken', 'CNY', 0, 0, 0, 0, '',"
        " CURRENT_TIMESTAMP)",
    )

    done = run_command(
        database_url,
        "ledger",
        "--database-url",
        database_url,
        "--concurrency",
        "2",
        "--seconds",
        "0.2",
        "--warmup-seconds",
        "0",
    )

    assert done.returncode == 1, done.stderr[-3000:]
    figures = figures_of(done)
    assert figures["errors"] == 0 and figures["spread_entries_per_s"] > 0
    assert figures["check"]["ok"] is False
    assert figures["check"]["problems"] == ["entry le_broken: has no postings"]
    assert "entry le_broken: has no postings" in done.stderr
