"""The control API and the payer page: registering, paying, cancelling, expiry, shutdown."""

from __future__ import annotations

import asyncio
import re
import time
from datetime import timedelta

import httpx
import pytest

from tongbao.security import samples
from tongbao.simulators.wechatpay import create_wechatpay_simulator
from tongbao.simulators.wechatpay.gateway_validation import CreateRequest

from .conftest import Running, start_simulator
from .support import ManualClock, Merchant, new_out_trade_no, wait_until


def _control(merchant: Merchant, http: httpx.Client, action: str, **body: object) -> httpx.Response:
    return http.post(f"{merchant.base_url}/_control/{action}", json=body)


def test_register_validates_and_replaces(wechat: Running, http: httpx.Client) -> None:
    url = f"{wechat.base_url}/_control/merchants"
    good = {
        "mchid": "1900000109",
        "appid": "wxd678efh567hg6787",
        "serial_no": "5157F09EFDC096DE15EBE81A47057A72",
        "public_key_pem": samples.public_pem(samples.new_rsa_key()),
        "apiv3_key": "k" * 32,
    }
    assert http.post(url, json=good).status_code == 200
    for change in (
        {"apiv3_key": "short"},
        {"public_key_pem": "not a key"},
        {"mchid": ""},
        {"platform_verification": "magic"},
        {"extra": 1},
    ):
        response = http.post(url, json={**good, **change})
        assert response.status_code == 400, change
        assert response.json()["code"] == "INVALID_REQUEST" and response.json()["message"]
    assert http.post(url, content=b"{nope").status_code == 400
    replaced = http.post(url, json={**good, "appid": "wx1111111111111111"}).json()
    assert wechat.sim.merchants["1900000109"].appid == "wx1111111111111111"
    assert replaced["platform_serial"] == wechat.sim.platform.serial


def test_register_in_process_matches_the_endpoint(wechat: Running) -> None:
    answer = wechat.sim.register_merchant(
        "1900000110",
        "wx2222222222222222",
        "ABCDEF",
        samples.public_pem(samples.new_rsa_key()),
        apiv3_key="a" * 32,
    )
    assert set(answer) == {
        "platform_public_key_pem",
        "platform_public_key_id",
        "platform_certificate_pem",
        "platform_serial",
    }


def test_pay_by_code_url_and_the_record(merchant: Merchant, http: httpx.Client) -> None:
    out_trade_no = new_out_trade_no()
    code_url = merchant.create_native(http, out_trade_no, notify_url="http://127.0.0.1:9/n").json()[
        "code_url"
    ]
    record = _control(merchant, http, "pay", code_url=code_url).json()
    assert record["trade_state"] == "SUCCESS" and record["out_trade_no"] == out_trade_no
    assert record["notify_url"] == "http://127.0.0.1:9/n" and record["refunds"] == []
    assert isinstance(record["callbacks"], list)

    again = _control(merchant, http, "pay", code_url=code_url)
    assert again.status_code == 409 and again.json()["code"] == "ORDER_PAID"
    assert _control(merchant, http, "pay", out_trade_no="NO_SUCH_ORDER").status_code == 404
    assert _control(merchant, http, "pay").status_code == 400
    assert http.get(f"{merchant.base_url}/_control/orders/NO_SUCH_ORDER").status_code == 404


def test_pay_by_prepay_id_and_invalid_amount(merchant: Merchant, http: httpx.Client) -> None:
    body = merchant.order_body(new_out_trade_no(), payer={"openid": "o-jsapi-payer"})
    prepay_id = merchant.call(http, "POST", "/v3/pay/transactions/jsapi", body).json()["prepay_id"]
    assert _control(merchant, http, "pay", prepay_id=prepay_id, amount=1.5).status_code == 400
    record = _control(merchant, http, "pay", prepay_id=prepay_id).json()
    assert record["payer"] == {"openid": "o-jsapi-payer"} and record["trade_type"] == "JSAPI"


def test_cancel_and_closed_orders(merchant: Merchant, http: httpx.Client) -> None:
    out_trade_no = new_out_trade_no()
    merchant.create_native(http, out_trade_no)
    cancelled = _control(merchant, http, "cancel", out_trade_no=out_trade_no).json()
    assert cancelled["trade_state"] == "PAYERROR" and cancelled["trade_state_desc"] == "用户取消支付"
    assert cancelled["callbacks"] == []
    assert merchant.query(http, out_trade_no).json()["trade_state"] == "PAYERROR"

    merchant.call(
        http, "POST", f"/v3/pay/transactions/out-trade-no/{out_trade_no}/close", {"mchid": merchant.mchid}
    )
    refused = _control(merchant, http, "pay", out_trade_no=out_trade_no)
    assert refused.status_code == 409 and refused.json()["code"] == "ORDER_CLOSED"


def test_payer_page(merchant: Merchant, http: httpx.Client, wechat: Running) -> None:
    lookup = http.get(f"{wechat.base_url}/_control/payer")
    assert lookup.status_code == 200 and "code_url" in lookup.text
    prefix = wechat.base_url.removeprefix(wechat.server.url)
    assert f'action="{prefix}/_control/payer"' in lookup.text

    out_trade_no = new_out_trade_no()
    code_url = merchant.create_native(http, out_trade_no, total=12345).json()["code_url"]
    page = http.get(f"{wechat.base_url}/_control/payer", params={"code_url": code_url})
    assert page.status_code == 200
    assert "¥123.45" in page.text and merchant.appid in page.text and "Tongbao test goods" in page.text
    assert "<script" not in page.text and "http" not in page.text.split("<body>")[1]
    action = re.search(r'<form method="post" action="([^"]+)"', page.text)
    assert action is not None and action.group(1) == f"{prefix}/_control/payer/pay"
    prepay_id = re.search(r'name="prepay_id" value="([^"]+)"', page.text)
    assert prepay_id is not None

    paid = http.post(f"{wechat.server.url}{action.group(1)}", data={"prepay_id": prepay_id.group(1)})
    assert paid.status_code == 200 and "Paid" in paid.text
    assert merchant.query(http, out_trade_no).json()["trade_state"] == "SUCCESS"
    again = http.post(f"{wechat.server.url}{action.group(1)}", data={"prepay_id": prepay_id.group(1)})
    assert again.status_code == 409 and "already paid" in again.text
    unknown = http.get(
        f"{wechat.base_url}/_control/payer", params={"code_url": "weixin://wxpay/bizpayurl?pr=x"}
    )
    assert unknown.status_code == 404


def test_an_expired_order_cannot_be_paid_but_stays_notpay(http: httpx.Client) -> None:
    clock = ManualClock()
    running = start_simulator(False, clock=clock)
    try:
        merchant = Merchant(running.base_url, samples.new_rsa_key(), clock=clock).register(http)
        short, default = new_out_trade_no(), new_out_trade_no()
        expire = (clock.now() + timedelta(minutes=5)).isoformat()
        assert merchant.create_native(http, short, time_expire=expire).status_code == 200
        assert merchant.create_native(http, default).status_code == 200
        clock.advance(minutes=6)
        refused = _control(merchant, http, "pay", out_trade_no=short)
        assert refused.status_code == 400 and refused.json()["code"] == "ORDER_EXPIRED"
        assert merchant.query(http, short).json()["trade_state"] == "NOTPAY"
        assert _control(merchant, http, "pay", out_trade_no=default).status_code == 200
        clock.advance(hours=3)
        other = new_out_trade_no()
        merchant.create_native(http, other)
        clock.advance(hours=2, seconds=1)
        assert _control(merchant, http, "pay", out_trade_no=other).json()["code"] == "ORDER_EXPIRED"
    finally:
        running.server.stop()


@pytest.mark.parametrize("mounted", [False, True], ids=["root", "mounted"])
def test_shutdown_cancels_pending_retries(http: httpx.Client, mounted: bool) -> None:
    running = start_simulator(mounted, callback_schedule_s=(60.0, 60.0))
    try:
        merchant = Merchant(running.base_url, samples.new_rsa_key()).register(http)
        out_trade_no = new_out_trade_no()
        merchant.create_native(http, out_trade_no, notify_url="http://127.0.0.1:9/n")
        _control(merchant, http, "pay", out_trade_no=out_trade_no).raise_for_status()
        wait_until(lambda: http.get(f"{running.base_url}/_control/orders/{out_trade_no}").json()["callbacks"])
        assert running.sim.notifier.pending == 1  # waiting 60 s for its first retry
    finally:
        started = time.monotonic()
        running.server.stop()
    assert time.monotonic() - started < 5
    assert running.sim.notifier.pending == 0


def test_in_process_use_and_aclose_without_a_lifespan() -> None:
    """The demo registers and pays in-process; aclose() alone stops the retries."""
    sim = create_wechatpay_simulator(callback_schedule_s=(60.0,)).state.simulator
    sim.register_merchant(
        "1900000111",
        "wx3333333333333333",
        "SERIAL1",
        samples.public_pem(samples.new_rsa_key()),
        apiv3_key="b" * 32,
    )
    order_request = CreateRequest(
        kind="native",
        appid="wx3333333333333333",
        mchid="1900000111",
        description="demo",
        out_trade_no="DEMO_0001",
        total=1,
        currency="CNY",
        notify_url="http://127.0.0.1:9/n",
        attach="",
        time_expire=None,
        openid=None,
        scene_info=None,
    )
    answer = sim.create_order(sim.merchants["1900000111"], order_request, lambda prepay_id: prepay_id)

    async def scenario() -> None:
        sim.pay(sim.find_order({"code_url": answer["code_url"]}))
        for _ in range(500):  # poll for the first (refused) attempt
            if sim.order("1900000111", "DEMO_0001").callbacks:
                break
            await asyncio.sleep(0.01)
        assert sim.notifier.pending == 1
        await sim.aclose()
        assert sim.notifier.pending == 0
        assert await sim.stall(0.01) is False  # usable again after closing

    asyncio.run(asyncio.wait_for(scenario(), 5))
