"""``tongbao bench notify`` with tiny numbers: both runs measured, healthy endpoints all notified."""

from __future__ import annotations

import pytest

from .conftest import run_bench


@pytest.mark.slow
def test_healthy_endpoints_are_measured_with_and_without_the_degraded_ones(database_url: str) -> None:
    figures = run_bench(
        database_url,
        "notify",
        *("--endpoints", "10", "--degraded-share", "0.3", "--rate", "20"),
        *("--duration", "1", "--warmup", "0", "--wait", "20"),
    )

    assert figures["errors"] == 0
    assert figures["degraded"] == {"slow": 1, "hang": 1, "refused": 1}
    assert figures["notifications_per_s"] > 0
    assert 0 < figures["p50_ms"] <= figures["p99_ms"]
    assert figures["ratio"] > 0
    baseline, degraded = figures["runs"]
    assert baseline["run"] == "baseline" and degraded["run"] == "degraded"
    assert baseline["delivered_by_kind"] == {"healthy": 20}
    assert degraded["sent_by_kind"] == {"healthy": 14, "slow": 2, "hang": 2, "refused": 2}
    assert degraded["delivered_by_kind"]["healthy"] == 14
