"""``tongbao bench e2e`` with tiny numbers: its own processes, every payment paid and notified."""

from __future__ import annotations

import pytest

from .conftest import run_bench


@pytest.mark.slow
def test_every_payment_is_created_paid_and_notified(database_url: str) -> None:
    figures = run_bench(database_url, "e2e", "--concurrency", "2", "--duration", "2", "--max-payments", "6")

    assert figures["errors"] == 0
    assert figures["payments_per_s"] > 0
    assert 0 < figures["p50_ms"] <= figures["p99_ms"]
    (only,) = figures["rounds"]
    assert only["concurrency"] == 2
    assert 1 <= only["created"] == only["paid"] == only["notified"] <= 6
    assert only["error_kinds"] == {}
