"""The Alipay simulator's refunds over HTTP, at the root and mounted below a prefix: alipay.trade.refund,
alipay.trade.fastpay.refund.query, their faults and the control API's view and settling."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tongbao.channels.alipay import protocol

from .test_alipay_support import (  # noqa: F401  (the fixtures register by import)
    AlipayApp,
    Answer,
    alipay_fixture,
    app_fixture,
    no,
)

QUERY = "alipay.trade.fastpay.refund.query"


def paid_trade(app: AlipayApp, amount: str = "12.34") -> str:
    order_no = no()
    assert app.precreate(order_no, amount).node["code"] == "10000"
    response = app.control("POST", "/pay", json={"out_trade_no": order_no, "app_id": app.app_id})
    assert response.status_code == 200, response.text
    return order_no


def refund(app: AlipayApp, order_no: str, amount: str, number: str | None = None, **biz: Any) -> Answer:
    content: dict[str, Any] = {"out_trade_no": order_no, "refund_amount": amount, **biz}
    if number is not None:
        content["out_request_no"] = number
    return app.call("alipay.trade.refund", content)


def query(app: AlipayApp, order_no: str, number: str, **biz: Any) -> dict[str, Any]:
    answer = app.call(QUERY, {"out_trade_no": order_no, "out_request_no": number, **biz})
    assert answer.signed_ok and answer.node_name == "alipay_trade_fastpay_refund_query_response"
    return answer.node


def record(app: AlipayApp, order_no: str) -> dict[str, Any]:
    response = app.control("GET", f"/orders/{order_no}", params={"app_id": app.app_id})
    assert response.status_code == 200, response.text
    return dict(response.json())


def faults(app: AlipayApp, *rules: dict[str, Any]) -> None:
    response = app.control("PUT", "/faults", json={"seed": 3, "rules": list(rules)})
    assert response.status_code == 200, response.text


def refused(answer: Answer, sub_code: str) -> None:
    assert answer.signed_ok and answer.response.status_code == 200
    assert (answer.node["code"], answer.node["sub_code"]) == ("40004", sub_code), answer.node


# -- refunds -----------------------------------------------------------------------------------------


def test_a_full_refund_goes_back_at_once_and_closes_the_trade(app: AlipayApp) -> None:
    order_no = paid_trade(app)
    number = no("rfd_")
    answer = refund(app, order_no, "12.34", number, refund_reason="缺货")
    assert answer.signed_ok and answer.node_name == "alipay_trade_refund_response"
    node = answer.node
    assert (node["code"], node["fund_change"], node["refund_fee"]) == ("10000", "Y", "12.34")
    assert node["out_trade_no"] == order_no and node["trade_no"] == record(app, order_no)["trade_no"]
    assert protocol.parse_time(node["gmt_refund_pay"])
    seen = record(app, order_no)
    assert seen["trade_status"] == "TRADE_CLOSED" and seen["refunded_amount"] == 1234
    [entry] = seen["refunds"]
    assert entry["refund_no"] == number and entry["status"] == "REFUND_SUCCESS"
    assert (entry["amount"], entry["channel_refund_no"]) == (1234, seen["trade_no"])
    assert entry["created_at"] and entry["finished_at"]
    found = query(app, order_no, number, query_options=["gmt_refund_pay"])
    assert found["refund_status"] == "REFUND_SUCCESS" and found["refund_amount"] == "12.34"
    assert found["out_request_no"] == number and found["refund_reason"] == "缺货"
    assert found["gmt_refund_pay"] == node["gmt_refund_pay"]
    assert "gmt_refund_pay" not in query(app, order_no, number)  # only when asked for


def test_partial_refunds_up_to_the_total_then_refused(app: AlipayApp) -> None:
    order_no = paid_trade(app, "10.00")
    assert refund(app, order_no, "4.00", "r1").node["refund_fee"] == "4.00"
    refused(refund(app, order_no, "6.01", "r2"), "ACQ.REASON_TRADE_REFUND_FEE_ERR")
    assert refund(app, order_no, "5.99", "r2").node["refund_fee"] == "9.99"
    assert record(app, order_no)["trade_status"] == "TRADE_SUCCESS"
    last = refund(app, order_no, "0.01", "r3").node
    assert (last["fund_change"], last["refund_fee"]) == ("Y", "10.00")
    refused(refund(app, order_no, "0.01", "r4"), "ACQ.TRADE_HAS_CLOSE")
    seen = record(app, order_no)
    assert [r["refund_no"] for r in seen["refunds"]] == ["r1", "r2", "r3"]
    assert seen["refunded_amount"] == 1000 and seen["trade_status"] == "TRADE_CLOSED"


def test_the_same_number_is_the_same_refund(app: AlipayApp) -> None:
    order_no = paid_trade(app)
    first = refund(app, order_no, "2.00", "same").node
    again = refund(app, order_no, "2.00", "same").node
    assert (first["fund_change"], again["fund_change"]) == ("Y", "N")
    assert again["refund_fee"] == "2.00" and again["gmt_refund_pay"] == first["gmt_refund_pay"]
    refused(refund(app, order_no, "3.00", "same"), "ACQ.DISCORDANT_REPEAT_REQUEST")
    assert len(record(app, order_no)["refunds"]) == 1
    # Numbers belong to a trade: the same number on another trade is that trade's own refund.
    other = paid_trade(app)
    assert refund(app, other, "1.00", "same").node["fund_change"] == "Y"
    assert record(app, order_no)["refunded_amount"] == 200


def test_without_a_number_only_the_full_amount_is_refunded(app: AlipayApp) -> None:
    order_no = paid_trade(app)
    refused(refund(app, order_no, "1.00"), "ACQ.REFUND_AMT_NOT_EQUAL_TOTAL")
    assert refund(app, order_no, "12.34").node["fund_change"] == "Y"
    assert query(app, order_no, order_no)["refund_status"] == "REFUND_SUCCESS"  # numbered by the trade


def test_refunds_of_unpaid_closed_and_unknown_trades_are_refused(app: AlipayApp) -> None:
    unpaid, closed = no(), no()
    app.precreate(unpaid)
    app.precreate(closed)
    app.call("alipay.trade.close", {"out_trade_no": closed})
    refused(refund(app, unpaid, "1.00", "r1"), "ACQ.TRADE_STATUS_ERROR")
    refused(refund(app, closed, "1.00", "r1"), "ACQ.TRADE_HAS_CLOSE")
    refused(refund(app, no(), "1.00", "r1"), "ACQ.TRADE_NOT_EXIST")
    refused(refund(app, paid_trade(app), "1.001", "r1"), "ACQ.INVALID_PARAMETER")
    assert record(app, unpaid)["refunds"] == [] and record(app, closed)["refunds"] == []


def test_query_of_an_unknown_refund_says_only_success(app: AlipayApp) -> None:
    order_no = paid_trade(app)
    assert query(app, order_no, "never") == {"code": "10000", "msg": "Success"}
    missing = app.call(QUERY, {"out_trade_no": no(), "out_request_no": "never"}).node
    assert missing["sub_code"] == "ACQ.TRADE_NOT_EXIST"
    assert query(app, order_no, "never", query_options="x")["sub_code"] == "ACQ.INVALID_PARAMETER"


# -- faults ------------------------------------------------------------------------------------------


def test_5xx_applies_nothing_and_system_error_applies(app: AlipayApp) -> None:
    order_no = paid_trade(app)
    faults(app, {"endpoint": "refund", "kind": "error_5xx", "rate": 1.0})
    answer = refund(app, order_no, "1.00", "r1")
    assert answer.response.status_code == 500 and answer.node["code"] == "20000" and answer.signed_ok
    assert query(app, order_no, "r1") == {"code": "10000", "msg": "Success"}
    faults(app, {"endpoint": "refund", "kind": "system_error", "rate": 1.0})
    assert refund(app, order_no, "1.00", "r1").node["code"] == "20000"
    assert query(app, order_no, "r1")["refund_status"] == "REFUND_SUCCESS"
    faults(app, {"endpoint": "refund_query", "kind": "error_5xx", "rate": 1.0})
    answer = app.call(QUERY, {"out_trade_no": order_no, "out_request_no": "r1"})
    assert answer.response.status_code == 500
    assert app.control("GET", "/faults").json()["calls"] == {"refund_query": 1}


def refund_timing_out(app: AlipayApp, order_no: str, number: str) -> None:
    """A refund of 1.00 whose answer the client stops waiting for after 0.3 s."""
    with pytest.raises(httpx.ReadTimeout):
        app.http.post(
            app.running.gateway,
            data=app.params(
                "alipay.trade.refund",
                {"out_trade_no": order_no, "refund_amount": "1.00", "out_request_no": number},
            ),
            timeout=0.3,
        )


def test_a_timeout_after_applying_leaves_the_refund_made(app: AlipayApp) -> None:
    order_no = paid_trade(app)
    faults(app, {"endpoint": "refund", "kind": "timeout", "rate": 1.0, "hang_s": 2})
    refund_timing_out(app, order_no, "late")
    assert query(app, order_no, "late")["refund_status"] == "REFUND_SUCCESS"
    faults(app, {"endpoint": "refund", "kind": "timeout", "rate": 1.0, "hang_s": 2, "before": True})
    refund_timing_out(app, order_no, "never")
    assert query(app, order_no, "never") == {"code": "10000", "msg": "Success"}


def test_processing_then_success_after_polls(app: AlipayApp) -> None:
    order_no = paid_trade(app)
    faults(app, {"endpoint": "refund", "kind": "processing", "rate": 1.0, "polls": 2})
    node = refund(app, order_no, "3.00", "slow").node
    assert (node["code"], node["fund_change"], node["refund_fee"]) == ("10000", "N", "0.00")
    assert "gmt_refund_pay" not in node
    assert record(app, order_no)["refunds"][0]["status"] == "REFUND_PROCESSING"
    for _ in range(2):
        held = query(app, order_no, "slow")
        assert held["out_request_no"] == "slow" and held["refund_amount"] == "3.00"
        assert "refund_status" not in held
    assert refund(app, order_no, "3.00", "slow").node["fund_change"] == "N"  # a repeat is no poll
    done = query(app, order_no, "slow", query_options=["gmt_refund_pay"])
    assert done["refund_status"] == "REFUND_SUCCESS" and protocol.parse_time(done["gmt_refund_pay"])
    # The money on its way counts against what is left while processing.
    faults(app, {"endpoint": "refund", "kind": "processing", "rate": 1.0, "polls": 5})
    assert refund(app, order_no, "9.34", "rest").node["fund_change"] == "N"
    refused(refund(app, order_no, "0.01", "more"), "ACQ.REASON_TRADE_REFUND_FEE_ERR")


def test_abnormal_refuses_the_refund_and_every_later_one(app: AlipayApp) -> None:
    order_no = paid_trade(app)
    faults(app, {"endpoint": "refund", "kind": "abnormal", "rate": 1.0})
    answer = refund(app, order_no, "1.00", "r1")
    refused(answer, "ACQ.CUSTOMER_VALIDATE_ERROR")
    assert answer.node["sub_msg"] == "账户已注销或者被冻结"
    app.control("DELETE", "/faults")
    refused(refund(app, order_no, "1.00", "r1"), "ACQ.CUSTOMER_VALIDATE_ERROR")
    refused(refund(app, order_no, "2.00", "r2"), "ACQ.CUSTOMER_VALIDATE_ERROR")
    assert query(app, order_no, "r1") == {"code": "10000", "msg": "Success"}  # a refused request
    assert record(app, order_no)["refunds"] == []


# -- control -----------------------------------------------------------------------------------------


def test_settling_a_processing_refund(app: AlipayApp) -> None:
    order_no, ok, bad = paid_trade(app), no("rfd_"), no("rfd_")
    faults(app, {"endpoint": "refund", "kind": "processing", "rate": 1.0, "polls": 9})
    refund(app, order_no, "1.00", ok)
    refund(app, order_no, "2.00", bad)
    settled = app.control("POST", "/refunds/settle", json={"refund_no": ok, "outcome": "success"})
    assert settled.status_code == 200, settled.text
    assert settled.json()["refunds"][0]["status"] == "REFUND_SUCCESS"
    assert query(app, order_no, ok)["refund_status"] == "REFUND_SUCCESS"
    body = {"refund_no": bad, "outcome": "abnormal", "out_trade_no": order_no, "app_id": app.app_id}
    failed = app.control("POST", "/refunds/settle", json=body).json()["refunds"][1]
    assert (failed["status"], failed["error_code"]) == ("REFUND_FAIL", "ACQ.CUSTOMER_VALIDATE_ERROR")
    node = query(app, order_no, bad)
    assert (node["refund_status"], node["error_code"]) == ("REFUND_FAIL", "ACQ.CUSTOMER_VALIDATE_ERROR")
    assert record(app, order_no)["refunded_amount"] == 100
    # The failed amount is free again, but the payer's account is closed.
    app.control("DELETE", "/faults")
    refused(refund(app, order_no, "2.00", bad), "ACQ.CUSTOMER_VALIDATE_ERROR")
    again = app.control("POST", "/refunds/settle", json={"refund_no": ok, "outcome": "success"})
    assert (again.status_code, again.json()["code"]) == (409, "REFUND_NOT_PROCESSING")
    unknown = app.control("POST", "/refunds/settle", json={"refund_no": no(), "outcome": "success"})
    assert unknown.status_code == 404
    wrong = app.control("POST", "/refunds/settle", json={"refund_no": ok, "outcome": "maybe"})
    assert wrong.status_code == 400


def test_settling_a_number_several_trades_use_needs_the_trade(app: AlipayApp) -> None:
    first, second = paid_trade(app), paid_trade(app)
    faults(app, {"endpoint": "refund", "kind": "processing", "rate": 1.0, "polls": 9})
    shared = no("rfd_")
    refund(app, first, "1.00", shared)
    refund(app, second, "1.00", shared)
    body = {"refund_no": shared, "outcome": "success"}
    assert app.control("POST", "/refunds/settle", json=body).status_code == 409
    done = app.control("POST", "/refunds/settle", json={**body, "out_trade_no": second})
    assert done.status_code == 200 and done.json()["out_trade_no"] == second
    assert query(app, first, shared).get("refund_status") is None
