"""Refunds at the WeChat Pay simulator over real HTTP, at the root and mounted: submit, query, the
refund callback, the refund faults and the control API's view and settle."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tongbao.channels.wechatpay import protocol

from .conftest import TEST_SCHEDULE_S, Running, start_simulator
from .support import Merchant, Receiver, new_out_trade_no, response_signature_ok, wait_until

REFUNDS = "/v3/refund/domestic/refunds"
REFUND_DELAY_S = 0.1


@pytest.fixture(scope="module", params=["root", "mounted"])
def wechat(request: pytest.FixtureRequest) -> Iterator[Running]:
    """This module's simulator: refunds finish after REFUND_DELAY_S, not the default half second."""
    running = start_simulator(
        request.param == "mounted",
        callback_schedule_s=TEST_SCHEDULE_S,
        http_timeout_s=1.0,
        refund_delay_s=REFUND_DELAY_S,
    )
    yield running
    running.server.stop()


def _paid_order(merchant: Merchant, http: httpx.Client, total: int = 1000) -> tuple[str, str]:
    """A paid order: (out_trade_no, transaction_id)."""
    out_trade_no = new_out_trade_no()
    created = merchant.create_native(http, out_trade_no, notify_url="http://127.0.0.1:9/paid", total=total)
    assert created.status_code == 200, created.text
    paid = http.post(f"{merchant.base_url}/_control/pay", json={"out_trade_no": out_trade_no})
    assert paid.status_code == 200, paid.text
    return out_trade_no, paid.json()["transaction_id"]


def _refund_body(out_trade_no: str, out_refund_no: str, refund: int, total: int = 1000, **extra: Any) -> Any:
    return {
        "out_trade_no": out_trade_no,
        "out_refund_no": out_refund_no,
        "amount": {"refund": refund, "total": total, "currency": "CNY"},
        **extra,
    }


def _refund(
    merchant: Merchant, http: httpx.Client, body: Any, timeout: float | None = None
) -> httpx.Response:
    return merchant.call(http, "POST", REFUNDS, body, timeout=timeout)


def _query(merchant: Merchant, http: httpx.Client, out_refund_no: str) -> httpx.Response:
    return merchant.call(http, "GET", f"{REFUNDS}/{out_refund_no}")


def _record(merchant: Merchant, http: httpx.Client, out_trade_no: str) -> dict[str, Any]:
    return dict(http.get(f"{merchant.base_url}/_control/orders/{out_trade_no}").json())


def _faults(merchant: Merchant, http: httpx.Client, *rules: dict[str, Any], seed: int = 3) -> None:
    response = http.put(f"{merchant.base_url}/_control/faults", json={"seed": seed, "rules": list(rules)})
    assert response.status_code == 200, response.text


def _settle(http: httpx.Client, merchant: Merchant, **body: Any) -> httpx.Response:
    return http.post(f"{merchant.base_url}/_control/refunds/settle", json=body)


def _no() -> str:
    return "rfd_" + new_out_trade_no()


def _status_after(merchant: Merchant, http: httpx.Client, out_refund_no: str, status: str) -> dict[str, Any]:
    return dict(
        wait_until(
            lambda: (answer := _query(merchant, http, out_refund_no).json())["status"] == status and answer
        )
    )


# -- submit, query, callback ---------------------------------------------------------------------------


def test_a_full_refund_is_processing_then_succeeds_with_a_signed_encrypted_callback(
    merchant: Merchant, http: httpx.Client, receiver: tuple[Receiver, str], notify_path: str
) -> None:
    inbox, url = receiver
    out_trade_no, transaction_id = _paid_order(merchant, http)
    out_refund_no = _no()
    body = _refund_body(out_trade_no, out_refund_no, 1000, reason="商品已售完", notify_url=url + notify_path)
    response = _refund(merchant, http, body)
    assert response.status_code == 200, response.text
    assert response_signature_ok(response, merchant.platform_key)
    answer = response.json()
    assert answer["status"] == "PROCESSING" and "success_time" not in answer
    assert (answer["out_refund_no"], answer["out_trade_no"]) == (out_refund_no, out_trade_no)
    assert answer["transaction_id"] == transaction_id
    assert answer["refund_id"].startswith("50") and len(answer["refund_id"]) == 29
    assert answer["channel"] == "ORIGINAL" and answer["user_received_account"] == "支付用户零钱"
    assert answer["create_time"].endswith("+08:00") and answer["funds_account"] == "UNSETTLED"
    amount = answer["amount"]
    assert (amount["total"], amount["refund"], amount["payer_refund"], amount["currency"]) == (
        1000,
        1000,
        1000,
        "CNY",
    )

    [notification] = wait_until(lambda: inbox.received(notify_path))
    headers = notification.headers
    signed = protocol.message(headers["wechatpay-timestamp"], headers["wechatpay-nonce"], notification.body)
    assert protocol.verify(merchant.platform_key, signed, headers["wechatpay-signature"])
    envelope = notification.json()
    assert (envelope["event_type"], envelope["summary"]) == ("REFUND.SUCCESS", "退款成功")
    assert envelope["resource"]["original_type"] == "refund"
    assert envelope["resource"]["associated_data"] == "refund"
    resource = merchant.decrypt(envelope["resource"])
    assert resource["refund_status"] == "SUCCESS" and resource["mchid"] == merchant.mchid
    assert (resource["out_refund_no"], resource["refund_id"]) == (out_refund_no, answer["refund_id"])
    assert resource["amount"] == {"total": 1000, "refund": 1000, "payer_total": 1000, "payer_refund": 1000}

    queried = _query(merchant, http, out_refund_no)
    assert queried.status_code == 200 and response_signature_ok(queried, merchant.platform_key)
    assert queried.json()["status"] == "SUCCESS"
    assert queried.json()["success_time"] == resource["success_time"]
    assert merchant.query(http, out_trade_no).json()["trade_state"] == "REFUND"  # 转入退款

    [refund] = _record(merchant, http, out_trade_no)["refunds"]
    assert refund["refund_no"] == out_refund_no and refund["channel_refund_no"] == answer["refund_id"]
    assert (refund["amount"], refund["status"]) == (1000, "SUCCESS")
    assert refund["created_at"] == answer["create_time"] and "finished_at" in refund


def test_a_refund_by_transaction_id(merchant: Merchant, http: httpx.Client) -> None:
    out_trade_no, transaction_id = _paid_order(merchant, http)
    body = _refund_body(out_trade_no, _no(), 10)
    del body["out_trade_no"]
    body["transaction_id"] = transaction_id
    response = _refund(merchant, http, body)
    assert response.status_code == 200, response.text
    assert response.json()["out_trade_no"] == out_trade_no
    mismatch = _refund(merchant, http, {**body, "out_trade_no": new_out_trade_no(), "out_refund_no": _no()})
    assert mismatch.status_code == 400 and mismatch.json()["code"] == "INVALID_REQUEST"


def test_partial_refunds_up_to_the_total_then_refused(merchant: Merchant, http: httpx.Client) -> None:
    out_trade_no, _ = _paid_order(merchant, http)
    for amount in (300, 300):
        assert _refund(merchant, http, _refund_body(out_trade_no, _no(), amount)).status_code == 200
    too_much = _refund(merchant, http, _refund_body(out_trade_no, _no(), 401))
    assert too_much.status_code == 400
    assert too_much.json() == {"code": "INVALID_REQUEST", "message": "申请退款金额超过订单可退金额"}
    assert response_signature_ok(too_much, merchant.platform_key)
    assert _refund(merchant, http, _refund_body(out_trade_no, _no(), 400)).status_code == 200
    exhausted = _refund(merchant, http, _refund_body(out_trade_no, _no(), 1))
    assert exhausted.status_code == 400 and exhausted.json()["message"] == "订单已全额退款"
    assert [r["amount"] for r in _record(merchant, http, out_trade_no)["refunds"]] == [300, 300, 400]


def test_the_same_refund_number_is_the_same_refund(merchant: Merchant, http: httpx.Client) -> None:
    out_trade_no, _ = _paid_order(merchant, http)
    out_refund_no = _no()
    first = _refund(merchant, http, _refund_body(out_trade_no, out_refund_no, 600)).json()
    again = _refund(merchant, http, _refund_body(out_trade_no, out_refund_no, 600))
    assert again.status_code == 200 and again.json()["refund_id"] == first["refund_id"]
    assert len(_record(merchant, http, out_trade_no)["refunds"]) == 1

    other_amount = _refund(merchant, http, _refund_body(out_trade_no, out_refund_no, 601))
    assert other_amount.status_code == 400 and other_amount.json()["code"] == "INVALID_REQUEST"
    other_order, _ = _paid_order(merchant, http)
    reused = _refund(merchant, http, _refund_body(other_order, out_refund_no, 600))
    assert reused.status_code == 400 and reused.json()["code"] == "INVALID_REQUEST"
    assert _record(merchant, http, other_order)["refunds"] == []

    # Once it has succeeded, asking again answers its current state, still one refund.
    _status_after(merchant, http, out_refund_no, "SUCCESS")
    assert (
        _refund(merchant, http, _refund_body(out_trade_no, out_refund_no, 600)).json()["status"] == "SUCCESS"
    )
    assert len(_record(merchant, http, out_trade_no)["refunds"]) == 1


def test_unknown_and_unpaid_orders_and_unknown_refunds(merchant: Merchant, http: httpx.Client) -> None:
    unknown = _refund(merchant, http, _refund_body(new_out_trade_no(), _no(), 1))
    assert unknown.status_code == 404
    assert unknown.json() == {"code": "RESOURCE_NOT_EXISTS", "message": "订单不存在"}
    unpaid = new_out_trade_no()
    merchant.create_native(http, unpaid)
    refused = _refund(merchant, http, _refund_body(unpaid, _no(), 1, total=100))
    assert refused.status_code == 404 and refused.json()["code"] == "RESOURCE_NOT_EXISTS"

    missing = _query(merchant, http, _no())
    assert missing.status_code == 404 and missing.json()["code"] == "RESOURCE_NOT_EXISTS"
    assert response_signature_ok(missing, merchant.platform_key)


def test_another_merchants_refund_is_not_found(
    merchant: Merchant, http: httpx.Client, wechat: Running
) -> None:
    out_trade_no, _ = _paid_order(merchant, http)
    out_refund_no = _no()
    _refund(merchant, http, _refund_body(out_trade_no, out_refund_no, 5))
    other = Merchant(wechat.base_url, merchant.key).register(http)
    assert _query(other, http, out_refund_no).status_code == 404
    assert _refund(other, http, _refund_body(out_trade_no, _no(), 5)).status_code == 404


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"out_refund_no": None}, "/out_refund_no"),
        ({"out_refund_no": "has space"}, "/out_refund_no"),
        ({"out_trade_no": None}, "/transaction_id"),
        ({"amount": {"refund": 1.5, "total": 1000, "currency": "CNY"}}, "/amount/refund"),
        ({"amount": {"refund": 1, "total": 1000}}, "/amount/currency"),
        ({"amount": {"refund": 1, "total": 1000, "currency": "USD"}}, "/amount/currency"),
        ({"reason": "退" * 27}, "/reason"),
        ({"notify_url": "ftp://merchant.example/refunds"}, "/notify_url"),
        ({"funds_account": "BASIC"}, "/funds_account"),
    ],
)
def test_malformed_refunds_are_param_errors(
    merchant: Merchant, http: httpx.Client, change: dict[str, Any], field: str
) -> None:
    body = {**_refund_body("TB0000000001", _no(), 1), **change}
    response = _refund(merchant, http, {k: v for k, v in body.items() if v is not None})
    assert response.status_code == 400, response.text
    assert response.json()["code"] == "PARAM_ERROR" and response.json()["detail"]["field"] == field


def test_a_total_other_than_the_orders_is_refused(merchant: Merchant, http: httpx.Client) -> None:
    out_trade_no, _ = _paid_order(merchant, http)
    response = _refund(merchant, http, _refund_body(out_trade_no, _no(), 1, total=999))
    assert response.status_code == 400 and response.json()["code"] == "INVALID_REQUEST"
    assert _record(merchant, http, out_trade_no)["refunds"] == []


# -- faults --------------------------------------------------------------------------------------------


def test_processing_fault_holds_the_refund_for_n_queries_then_it_succeeds_and_calls_back(
    merchant: Merchant, http: httpx.Client, receiver: tuple[Receiver, str], notify_path: str
) -> None:
    inbox, url = receiver
    _faults(merchant, http, {"endpoint": "refund", "kind": "processing", "rate": 1, "polls": 2})
    out_trade_no, _ = _paid_order(merchant, http)
    out_refund_no = _no()
    body = _refund_body(out_trade_no, out_refund_no, 200, notify_url=url + notify_path)
    assert _refund(merchant, http, body).json()["status"] == "PROCESSING"
    time.sleep(REFUND_DELAY_S * 3)  # well past the time it would otherwise have finished
    assert [_query(merchant, http, out_refund_no).json()["status"] for _ in range(2)] == ["PROCESSING"] * 2
    assert inbox.received(notify_path) == []
    assert _query(merchant, http, out_refund_no).json()["status"] == "SUCCESS"
    [notification] = wait_until(lambda: inbox.received(notify_path))
    assert merchant.decrypt(notification.json()["resource"])["refund_status"] == "SUCCESS"


def test_abnormal_fault_ends_the_refund_abnormal_with_its_callback(
    merchant: Merchant, http: httpx.Client, receiver: tuple[Receiver, str], notify_path: str
) -> None:
    inbox, url = receiver
    _faults(merchant, http, {"endpoint": "refund", "kind": "abnormal", "rate": 1})
    out_trade_no, _ = _paid_order(merchant, http)
    out_refund_no = _no()
    _refund(merchant, http, _refund_body(out_trade_no, out_refund_no, 1000, notify_url=url + notify_path))
    [notification] = wait_until(lambda: inbox.received(notify_path))
    envelope = notification.json()
    assert (envelope["event_type"], envelope["summary"]) == ("REFUND.ABNORMAL", "退款异常")
    resource = merchant.decrypt(envelope["resource"])
    assert resource["refund_status"] == "ABNORMAL" and "success_time" not in resource
    assert resource["user_received_account"] != "支付用户零钱"  # a card, found closed or frozen
    assert _query(merchant, http, out_refund_no).json()["status"] == "ABNORMAL"
    assert merchant.query(http, out_trade_no).json()["trade_state"] == "SUCCESS"
    # The money did not go back: the whole amount may be refunded again.
    assert _refund(merchant, http, _refund_body(out_trade_no, _no(), 1000)).status_code == 200


def test_error_5xx_applies_nothing_and_system_error_applies(merchant: Merchant, http: httpx.Client) -> None:
    out_trade_no, _ = _paid_order(merchant, http)
    _faults(merchant, http, {"endpoint": "refund", "kind": "error_5xx", "rate": 1})
    lost = _no()
    failed = _refund(merchant, http, _refund_body(out_trade_no, lost, 100))
    assert failed.status_code == 500 and failed.json()["code"] == "SYSTEM_ERROR"
    assert response_signature_ok(failed, merchant.platform_key)
    assert _query(merchant, http, lost).status_code == 404

    _faults(merchant, http, {"endpoint": "refund", "kind": "system_error", "rate": 1})
    applied = _no()
    assert _refund(merchant, http, _refund_body(out_trade_no, applied, 100)).status_code == 500
    assert _query(merchant, http, applied).status_code == 200


def test_a_refund_that_times_out_was_applied(merchant: Merchant, http: httpx.Client) -> None:
    out_trade_no, _ = _paid_order(merchant, http)
    _faults(merchant, http, {"endpoint": "refund", "kind": "timeout", "rate": 1, "hang_s": 5})
    out_refund_no = _no()
    started = time.monotonic()
    with pytest.raises(httpx.ReadTimeout):
        _refund(merchant, http, _refund_body(out_trade_no, out_refund_no, 100), timeout=0.3)
    assert time.monotonic() - started < 2
    assert _status_after(merchant, http, out_refund_no, "SUCCESS")["amount"]["refund"] == 100


def test_refund_query_faults(merchant: Merchant, http: httpx.Client) -> None:
    out_trade_no, _ = _paid_order(merchant, http)
    out_refund_no = _no()
    _refund(merchant, http, _refund_body(out_trade_no, out_refund_no, 100))
    _faults(merchant, http, {"endpoint": "refund_query", "kind": "error_5xx", "rate": 1})
    assert _query(merchant, http, out_refund_no).status_code == 500
    calls = http.get(f"{merchant.base_url}/_control/faults").json()["calls"]
    assert calls == {"refund_query": 1}


def test_refund_callback_faults(
    merchant: Merchant, http: httpx.Client, receiver: tuple[Receiver, str], wechat: Running
) -> None:
    inbox, url = receiver
    out_trade_no, _ = _paid_order(merchant, http)
    _faults(merchant, http, {"endpoint": "refund_callback", "kind": "lost", "rate": 1})
    lost_path = f"/notify/refund-lost-{merchant.mchid}"
    lost = _no()
    _refund(merchant, http, _refund_body(out_trade_no, lost, 100, notify_url=url + lost_path))
    _status_after(merchant, http, lost, "SUCCESS")
    wechat.server.run(wechat.sim.wait_callbacks())
    assert inbox.received(lost_path) == []
    refund = wechat.sim.refunds.query(merchant.mchid, lost)
    assert "lost" in refund.callbacks[0]["error"]

    _faults(merchant, http, {"endpoint": "refund_callback", "kind": "duplicate", "rate": 1, "copies": 2})
    dup_path = f"/notify/refund-dup-{merchant.mchid}"
    _refund(merchant, http, _refund_body(out_trade_no, _no(), 100, notify_url=url + dup_path))
    copies = wait_until(lambda: len(got := inbox.received(dup_path)) == 2 and got)
    assert len({item.json()["id"] for item in copies}) == 1

    # Refund callbacks draw their fate on their own endpoint name, not on the payments' "callback".
    assert http.get(f"{merchant.base_url}/_control/faults").json()["calls"] == {
        "refund": 1,
        "refund_callback": 1,
    }


def test_unanswered_refund_callbacks_are_retried(
    merchant: Merchant,
    http: httpx.Client,
    receiver: tuple[Receiver, str],
    notify_path: str,
    wechat: Running,
) -> None:
    inbox, url = receiver
    inbox.answer(notify_path, 500)
    out_trade_no, _ = _paid_order(merchant, http)
    out_refund_no = _no()
    _refund(merchant, http, _refund_body(out_trade_no, out_refund_no, 100, notify_url=url + notify_path))
    wait_until(lambda: len(inbox.received(notify_path)) == 2)
    wechat.server.run(wechat.sim.wait_callbacks())
    log = wechat.sim.refunds.query(merchant.mchid, out_refund_no).callbacks
    assert [entry["status_code"] for entry in log] == [500, 200]
    assert _record(merchant, http, out_trade_no)["callbacks"][0]["url"] == "http://127.0.0.1:9/paid"


# -- control -------------------------------------------------------------------------------------------


def test_settle_finishes_a_processing_refund_now(
    merchant: Merchant, http: httpx.Client, receiver: tuple[Receiver, str]
) -> None:
    inbox, url = receiver
    _faults(merchant, http, {"endpoint": "refund", "kind": "processing", "rate": 1, "polls": 100})
    out_trade_no, _ = _paid_order(merchant, http)
    good, bad = _no(), _no()
    good_path, bad_path = f"/notify/{good}", f"/notify/{bad}"
    _refund(merchant, http, _refund_body(out_trade_no, good, 100, notify_url=url + good_path))
    _refund(merchant, http, _refund_body(out_trade_no, bad, 100, notify_url=url + bad_path))
    assert _query(merchant, http, good).json()["status"] == "PROCESSING"

    settled = _settle(http, merchant, refund_no=good, outcome="success")
    assert settled.status_code == 200, settled.text
    assert settled.json()["status"] == "SUCCESS" and settled.json()["finished_at"]
    assert _query(merchant, http, good).json()["status"] == "SUCCESS"
    [notification] = wait_until(lambda: inbox.received(good_path))
    assert notification.json()["event_type"] == "REFUND.SUCCESS"

    assert _settle(http, merchant, refund_no=bad, outcome="abnormal").json()["status"] == "ABNORMAL"
    [notification] = wait_until(lambda: inbox.received(bad_path))
    assert notification.json()["event_type"] == "REFUND.ABNORMAL"

    again = _settle(http, merchant, refund_no=good, outcome="abnormal")
    assert again.status_code == 409 and again.json()["code"] == "REFUND_FINISHED"
    assert _settle(http, merchant, refund_no=_no(), outcome="success").status_code == 404
    assert _settle(http, merchant, refund_no=good, outcome="maybe").status_code == 400
    assert _settle(http, merchant, refund_no=good).status_code == 400
    statuses = {r["refund_no"]: r["status"] for r in _record(merchant, http, out_trade_no)["refunds"]}
    assert statuses == {good: "SUCCESS", bad: "ABNORMAL"}
