"""API faults over real HTTP: 5xx, SYSTEM_ERROR, timeouts and latency, and the fault plan endpoints."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from .support import Merchant, new_out_trade_no, response_signature_ok


def _faults(merchant: Merchant, http: httpx.Client, *rules: dict[str, Any], seed: int = 1) -> httpx.Response:
    return http.put(f"{merchant.base_url}/_control/faults", json={"seed": seed, "rules": list(rules)})


def test_error_5xx_applies_nothing(merchant: Merchant, http: httpx.Client) -> None:
    assert _faults(merchant, http, {"endpoint": "create", "kind": "error_5xx", "rate": 1}).status_code == 200
    out_trade_no = new_out_trade_no()
    response = merchant.create_native(http, out_trade_no)
    assert response.status_code == 500 and response.json()["code"] == "SYSTEM_ERROR"
    assert response_signature_ok(response, merchant.platform_key)
    assert merchant.query(http, out_trade_no).status_code == 404


def test_system_error_still_applies_the_request(merchant: Merchant, http: httpx.Client) -> None:
    _faults(merchant, http, {"endpoint": "create", "kind": "system_error", "rate": 1})
    out_trade_no = new_out_trade_no()
    assert merchant.create_native(http, out_trade_no).status_code == 500
    assert merchant.query(http, out_trade_no).json()["trade_state"] == "NOTPAY"


def test_timeout_applies_then_hangs(merchant: Merchant, http: httpx.Client) -> None:
    _faults(merchant, http, {"endpoint": "create", "kind": "timeout", "rate": 1, "hang_s": 5})
    out_trade_no = new_out_trade_no()
    started = time.monotonic()
    with pytest.raises(httpx.ReadTimeout):
        merchant.create_native(http, out_trade_no, timeout=0.3)
    assert time.monotonic() - started < 2
    assert merchant.query(http, out_trade_no).json()["trade_state"] == "NOTPAY"


def test_latency_delays_the_answer(merchant: Merchant, http: httpx.Client) -> None:
    _faults(merchant, http, {"endpoint": "query", "kind": "latency", "rate": 1, "latency_ms": 200})
    started = time.monotonic()
    assert merchant.query(http, "NO_SUCH_ORDER").status_code == 404
    assert time.monotonic() - started >= 0.2


def test_rate_and_seed_decide_which_calls_fail(merchant: Merchant, http: httpx.Client) -> None:
    def outcomes(seed: int) -> list[int]:
        _faults(merchant, http, {"endpoint": "query", "kind": "error_5xx", "rate": 0.5}, seed=seed)
        return [merchant.query(http, "NO_SUCH_ORDER").status_code for _ in range(12)]

    first = outcomes(42)
    assert set(first) == {404, 500}
    assert outcomes(42) == first  # installing a plan restarts its call counters


def test_plan_endpoints(merchant: Merchant, http: httpx.Client) -> None:
    rule = {"endpoint": "*", "kind": "duplicate", "rate": 0.25, "copies": 3}
    plan = _faults(merchant, http, rule, seed=9).json()
    assert plan["seed"] == 9 and plan["rules"] == [rule]
    assert http.get(f"{merchant.base_url}/_control/faults").json()["rules"] == [rule]
    assert http.delete(f"{merchant.base_url}/_control/faults").json() == {"seed": None, "rules": []}

    for bad in (
        {"endpoint": "create", "kind": "meteor", "rate": 1},
        {"endpoint": "create", "kind": "latency", "rate": 1.5},
        {"endpoint": "create", "kind": "latency", "rate": 1, "latency_ms": -1},
        {"endpoint": "create", "kind": "lost", "rate": 1, "copies": 2},
        {"kind": "lost", "rate": 1},
    ):
        response = _faults(merchant, http, bad)
        assert response.status_code == 400, bad
        assert response.json()["code"] == "INVALID_FAULT_PLAN"
    assert http.put(f"{merchant.base_url}/_control/faults", json={"rules": []}).status_code == 400


def test_timeout_before_stalls_then_applies(merchant: Merchant, http: httpx.Client) -> None:
    _faults(
        merchant, http, {"endpoint": "close", "kind": "timeout", "rate": 1, "hang_s": 0.3, "before": True}
    )
    out_trade_no = new_out_trade_no()
    merchant.create_native(http, out_trade_no)
    assert merchant.query(http, out_trade_no).json()["trade_state"] == "NOTPAY"
    started = time.monotonic()
    path = f"/v3/pay/transactions/out-trade-no/{out_trade_no}/close"
    assert merchant.call(http, "POST", path, {"mchid": merchant.mchid}).status_code == 204
    assert time.monotonic() - started >= 0.3
    assert merchant.query(http, out_trade_no).json()["trade_state"] == "CLOSED"
