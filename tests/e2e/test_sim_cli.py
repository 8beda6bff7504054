"""``tongbao sim <channel>`` runs one simulator standalone, with a fault plan from the command line."""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest

from .test_serve_demo import TONGBAO, free_port

PLAN = {"seed": 5, "rules": [{"endpoint": "create", "kind": "error_5xx", "rate": 0.2}]}


@contextmanager
def simulator(channel: str, plan: dict[str, Any]) -> Iterator[str]:
    """``tongbao sim CHANNEL --faults PLAN`` until the block ends; its base URL once it answers."""
    port = free_port()
    proc = subprocess.Popen(
        [*TONGBAO, "sim", channel, "--port", str(port), "--faults", json.dumps(plan)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"{url}/_control/faults", timeout=1)
                break
            except httpx.TransportError:
                assert proc.poll() is None and time.monotonic() < deadline
                time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=20)


@pytest.mark.slow
@pytest.mark.parametrize("channel", ["wechatpay", "alipay", "unionpay"])
def test_a_standalone_simulator_starts_with_its_faults(channel: str) -> None:
    with simulator(channel, PLAN) as url:
        answer = httpx.get(f"{url}/_control/faults", timeout=5)
    assert answer.status_code == 200
    assert {k: answer.json()[k] for k in ("seed", "rules")} == PLAN


@pytest.mark.slow
def test_a_long_plan_on_the_command_line_is_read_as_json_and_callbacks_are_counted() -> None:
    # Longer than a file name may be: it must not be mistaken for one.
    rules = [{"endpoint": e, "kind": "error_5xx", "rate": 0.1} for e in ("create", "query", "close") * 10]
    with simulator("wechatpay", {"seed": 9, "rules": rules}) as url:
        faults = httpx.get(f"{url}/_control/faults", timeout=5)
        callbacks = httpx.get(f"{url}/_control/callbacks", timeout=5)
    assert len(faults.json()["rules"]) == len(rules)
    assert callbacks.json() == {"pending": 0, "retrying": 0, "next_retry_in_s": None}


@pytest.mark.slow
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["sim", "paypal"], "unknown channel"),
        (["sim", "alipay", "--faults", '{"seed": 1, "rules": [{}]}'], "--faults"),
        (["sim", "alipay", "--faults", "no-such-plan.json"], "--faults"),
    ],
)
def test_bad_simulator_arguments_exit_2_with_a_reason(args: list[str], message: str) -> None:
    result = subprocess.run([*TONGBAO, *args], capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert message in result.stderr + result.stdout
