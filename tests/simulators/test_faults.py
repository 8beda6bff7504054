"""The channel-neutral fault model: validation, and decisions that depend on the seed alone."""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tongbao.simulators.faults import FaultInjector, FaultKind, FaultPlan, FaultPlanError, FaultRule

endpoints = st.sampled_from(["create", "query", "close", "certificates", "callback"])


def _plan(seed: int, rate: float = 0.5) -> FaultPlan:
    return FaultPlan(
        seed, (FaultRule("*", FaultKind.ERROR_5XX, rate), FaultRule("query", FaultKind.LATENCY, rate))
    )


@given(seed=st.integers(), endpoint=endpoints, calls=st.integers(min_value=1, max_value=40))
def test_same_seed_same_decisions(seed: int, endpoint: str, calls: int) -> None:
    first, second = FaultInjector(), FaultInjector()
    first.install(_plan(seed))
    random.seed(seed + 1)  # global random state must not matter
    second.install(_plan(seed))
    assert [first.next(endpoint) for _ in range(calls)] == [second.next(endpoint) for _ in range(calls)]


@given(seed=st.integers(min_value=-(2**62), max_value=2**62), endpoint=endpoints)
def test_different_seeds_differ(seed: int, endpoint: str) -> None:
    # 64 draws at rate 1/2 agree by chance with probability 2**-64.
    decisions = [[bool(_plan(s).decide(endpoint, n)) for n in range(1, 65)] for s in (seed, seed + 1)]
    assert decisions[0] != decisions[1]


@given(seed=st.integers(), endpoint=endpoints, call=st.integers(min_value=1))
def test_rate_bounds(seed: int, endpoint: str, call: int) -> None:
    assert not _plan(seed, 0).decide(endpoint, call)
    assert len(_plan(seed, 1).decide(endpoint, call).rules) == (2 if endpoint == "query" else 1)


@given(rate=st.one_of(st.floats(max_value=-1e-9), st.floats(min_value=1.000001), st.just(float("nan"))))
def test_rates_outside_zero_to_one_are_refused(rate: float) -> None:
    with pytest.raises(FaultPlanError):
        FaultRule("create", FaultKind.LOST, rate)


def test_rate_is_roughly_honoured() -> None:
    plan = FaultPlan(3, (FaultRule("create", FaultKind.ERROR_5XX, 0.2),))
    fired = sum(bool(plan.decide("create", n)) for n in range(1, 2001))
    assert 300 < fired < 500


def test_rules_only_hit_their_endpoint() -> None:
    plan = FaultPlan(1, (FaultRule("callback", FaultKind.LOST, 1),))
    assert not plan.decide("create", 1) and plan.decide("callback", 1).get(FaultKind.LOST) is not None


def test_json_round_trip_fills_defaults() -> None:
    plan = FaultPlan.from_json(
        {
            "seed": 5,
            "rules": [
                {"endpoint": "create", "kind": "timeout", "rate": 1},
                {"endpoint": "callback", "kind": "duplicate", "rate": 0.5, "copies": 4},
                {"endpoint": "callback", "kind": "wrong_amount", "rate": 1},
                {"endpoint": "*", "kind": "processing", "rate": 0},
                {"endpoint": "*", "kind": "reorder", "rate": 0},
            ],
        }
    )
    timeout, duplicate, wrong, _, _ = plan.rules
    assert timeout.param("hang_s") == 30.0 and timeout.param("before") is False
    assert duplicate.param("copies") == 4 and wrong.param("delta") == 1
    assert FaultPlan.from_json(plan.to_json()) == plan


@pytest.mark.parametrize(
    "data",
    [
        [],
        {"rules": []},
        {"seed": "1", "rules": []},
        {"seed": True, "rules": []},
        {"seed": 1, "rules": {}},
        {"seed": 1, "rules": [], "extra": 1},
        {"seed": 1, "rules": [{"endpoint": "", "kind": "lost", "rate": 1}]},
        {"seed": 1, "rules": [{"endpoint": "x", "kind": "lost", "rate": True}]},
        {"seed": 1, "rules": [{"endpoint": "x", "kind": "duplicate", "rate": 1, "copies": 1}]},
        {"seed": 1, "rules": [{"endpoint": "x", "kind": "timeout", "rate": 1, "before": 1}]},
        {"seed": 1, "rules": [{"endpoint": "x", "kind": "latency", "rate": 1, "latency_ms": 1.5}]},
        {"seed": 1, "rules": [{"endpoint": "x", "kind": "wrong_amount", "rate": 1, "delta": 0}]},
        {"seed": 1, "rules": [{"endpoint": "x", "kind": "delay", "rate": 1, "delay_s": float("inf")}]},
        {"seed": 1, "rules": ["lost"]},
    ],
)
def test_malformed_plans_are_refused(data: object) -> None:
    with pytest.raises(FaultPlanError):
        FaultPlan.from_json(data)


def test_installing_restarts_the_counters() -> None:
    injector = FaultInjector()
    injector.install(_plan(11))
    first = [injector.next("create") for _ in range(10)]
    injector.install(_plan(11))
    assert [injector.next("create") for _ in range(10)] == first
    injector.clear()
    assert not injector.next("create") and injector.plan is None
