"""``tongbao bench create`` with tiny numbers: the gateway's rounds, the ceiling from the captured
SQL, and the SQL budget of one creation, which the performance work brought down and must keep."""

from __future__ import annotations

import pytest

from .conftest import run_bench


@pytest.mark.slow
def test_creations_are_measured_against_the_replayed_sql_of_one_creation(database_url: str) -> None:
    figures = run_bench(
        database_url,
        "create",
        "--concurrency",
        "2",
        "--duration",
        "1",
        "--max-payments",
        "20",
        "--api-workers",
        "1",
    )

    assert figures["errors"] == 0
    assert figures["payments_per_s"] > 0 and 0 < figures["p50_ms"] <= figures["p99_ms"]
    assert figures["ceiling_per_s"] > 0
    assert figures["ratio"] == pytest.approx(figures["payments_per_s"] / figures["ceiling_per_s"], rel=0.05)
    assert figures["cpu_ms_per_creation"]["api"] > 0
    (only,) = figures["rounds"]
    assert only["gateway"]["completed"] >= 1 and only["ceiling"]["completed"] >= 1
    sql = figures["sql_per_creation"]
    # Signature, nonce and key in one transaction; the creation; the channel's answer; the answer kept.
    assert sql["transactions"] <= 4 and sql["statements"] <= 10
    assert sql["round_trips"] == sql["statements"] + 2 * sql["transactions"]
