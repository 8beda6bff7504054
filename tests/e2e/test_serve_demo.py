"""``tongbao serve --demo`` as a newcomer runs it: a real process, a real port, demo.json."""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tongbao.client import TongbaoClient

from ..support.databases import backends
from ..support.demo_server import TONGBAO, cli_env, free_port, serve_demo


@pytest.fixture(params=backends())
def demo(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Path, dict[str, str]]]:
    with serve_demo(request.param, tmp_path) as run:
        yield run.data_dir, run.env


@pytest.mark.slow
def test_demo_serves_a_signed_me_and_refuses_a_replay(demo: tuple[Path, dict[str, str]]) -> None:
    data_dir, env = demo
    state = json.loads((data_dir / "demo.json").read_text())
    assert set(state) == {"base_url", "app_id", "app_secret", "merchant_id", "admin_token", "cashier_url"}

    with TongbaoClient.from_demo(data_dir / "demo.json") as client:
        authorization = client.sign("GET", "/v1/me", b"")
        first = httpx.get(state["base_url"] + "/v1/me", headers=authorization)
        assert first.status_code == 200
        client.verify_response(first)  # raises unless Tongbao's signature verifies
        assert first.json()["merchant"]["id"] == state["merchant_id"]
        assert first.json()["merchant"]["status"] == "active"

        replay = httpx.get(state["base_url"] + "/v1/me", headers=authorization)
        assert replay.status_code == 401
        assert replay.json()["error"]["code"] == "replayed_request"

    admin = httpx.get(
        state["base_url"] + "/admin/v1/channel-accounts",
        headers={"Authorization": f"Bearer {state['admin_token']}"},
    )
    channels = {a["channel"]: a for a in admin.json()["data"]}
    assert set(channels) == {"wechatpay", "alipay", "unionpay"}
    assert channels["wechatpay"]["base_url"] == state["base_url"] + "/sim/wechatpay"

    # Another command on the same data dir works on the same database.
    listed = subprocess.run(
        [*TONGBAO, "merchants", "list"], env=env, capture_output=True, text=True, check=True
    )
    assert state["merchant_id"][:20] in listed.stdout and "active" in listed.stdout


@pytest.mark.slow
def test_production_start_without_a_master_key_refuses(tmp_path: Path) -> None:
    env = cli_env(tmp_path, None)
    result = subprocess.run(
        [*TONGBAO, "serve", "--port", str(free_port())], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2
    assert "TONGBAO_MASTER_KEY" in result.stderr + result.stdout


@pytest.mark.slow
def test_demo_payment_paid_at_the_cashier_reaches_the_demo_merchant(
    demo: tuple[Path, dict[str, str]],
) -> None:
    """The newcomer's path: the printed cashier link, WeChat Pay, the simulator's payer page, Pay."""
    data_dir, _ = demo
    state = json.loads((data_dir / "demo.json").read_text())
    cashier = state["cashier_url"]
    page = httpx.get(cashier)
    assert page.status_code == 200
    assert "Demo Coffee" in page.text and "18.00" in page.text

    chosen = httpx.post(cashier + "/attempts", json={"method": "wechat_native"}, timeout=30).json()
    assert chosen["qr_svg"].startswith("<svg")
    payer_page = httpx.get(chosen["payer_url"])
    assert payer_page.status_code == 200 and "18.00" in payer_page.text
    paid = httpx.post(
        state["base_url"] + "/sim/wechatpay/_control/payer/pay", data={"code_url": chosen["code_url"]}
    )
    assert paid.status_code == 200 and "Paid" in paid.text

    deadline = time.monotonic() + 30
    while httpx.get(cashier + "/status").json()["status"] != "succeeded":
        assert time.monotonic() < deadline
        time.sleep(0.2)
    while not httpx.get(state["base_url"] + "/demo/notifications").json()["data"]:
        assert time.monotonic() < deadline  # the in-process worker delivers it
        time.sleep(0.2)
    [event] = httpx.get(state["base_url"] + "/demo/notifications").json()["data"]
    assert event["type"] == "payment.succeeded"
    assert cashier.endswith(event["data"]["id"])
