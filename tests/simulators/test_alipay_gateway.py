"""The Alipay simulator's gateway over HTTP, at the root and mounted below a prefix."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

import httpx

from tongbao.channels.alipay import protocol
from tongbao.security import samples

from .test_alipay_support import (  # noqa: F401  (the fixtures register by import)
    AlipayApp,
    Running,
    alipay_fixture,
    app_fixture,
    no,
    parse_answer,
)


def test_precreate_answers_a_signed_qr_code_in_alipays_shape(app: AlipayApp) -> None:
    order_no = no()
    answer = app.precreate(order_no, "12.34")
    assert answer.response.status_code == 200
    assert answer.node_name == "alipay_trade_precreate_response"
    assert answer.signed_ok
    assert answer.node["code"] == "10000" and answer.node["msg"] == "Success"
    assert answer.node["out_trade_no"] == order_no
    assert answer.node["qr_code"].startswith("https://qr.alipay.com/")
    text = answer.response.text
    assert text.startswith('{"alipay_trade_precreate_response":{') and '"sign":"' in text


def test_parameters_in_the_query_string_are_accepted_too(app: AlipayApp) -> None:
    answer = app.call(
        "alipay.trade.precreate",
        {"out_trade_no": no(), "total_amount": "1", "subject": "x"},
        in_query=True,
    )
    assert answer.node["code"] == "10000" and answer.signed_ok


def test_precreate_is_idempotent_and_refuses_other_parameters(app: AlipayApp) -> None:
    order_no = no()
    first = app.precreate(order_no, "5.00")
    assert app.precreate(order_no, "5.00").node["qr_code"] == first.node["qr_code"]
    other = app.precreate(order_no, "5.01")
    assert other.node["code"] == "40004"
    assert other.node["sub_code"] == "ACQ.CONTEXT_INCONSISTENT"
    assert other.signed_ok


def test_unknown_app_and_bad_signature_are_refused(app: AlipayApp, http: httpx.Client) -> None:
    params = app.params("alipay.trade.query", {"out_trade_no": no()})
    forged = {**params, "biz_content": '{"out_trade_no":"other"}'}
    answer = parse_answer(http.post(app.running.gateway, data=forged), "alipay.trade.query", app.alipay_key)
    assert (answer.node["code"], answer.node["sub_code"]) == ("40002", "isv.invalid-signature")
    stranger = AlipayApp(app.running, http)
    answer = stranger.call("alipay.trade.query", {"out_trade_no": no()})
    assert (answer.node["code"], answer.node["sub_code"]) == ("40002", "isv.invalid-app-id")
    missing = {k: v for k, v in params.items() if k != "sign"}
    answer = parse_answer(http.post(app.running.gateway, data=missing), "alipay.trade.query", app.alipay_key)
    assert (answer.node["code"], answer.node["sub_code"]) == ("40001", "isv.missing-sign")


def test_query_close_and_the_trade_states(app: AlipayApp) -> None:
    missing = app.call("alipay.trade.query", {"out_trade_no": no()})
    assert missing.node["sub_code"] == "ACQ.TRADE_NOT_EXIST" and missing.node["sub_msg"] == "交易不存在"
    open_no, paid_no = no(), no()
    app.precreate(open_no)
    qr = app.precreate(paid_no, "9.90").node["qr_code"]
    assert app.call("alipay.trade.query", {"out_trade_no": open_no}).node["trade_status"] == "WAIT_BUYER_PAY"
    assert app.control("POST", "/pay", json={"qr_code": qr}).json()["trade_status"] == "TRADE_SUCCESS"
    paid = app.call("alipay.trade.query", {"out_trade_no": paid_no}).node
    assert paid["trade_status"] == "TRADE_SUCCESS" and paid["total_amount"] == "9.90"
    assert protocol.parse_time(paid["send_pay_date"])
    assert app.call("alipay.trade.close", {"out_trade_no": open_no}).node["code"] == "10000"
    assert app.call("alipay.trade.query", {"out_trade_no": open_no}).node["trade_status"] == "TRADE_CLOSED"
    refused = app.call("alipay.trade.close", {"out_trade_no": paid_no}).node
    assert refused["sub_code"] == "ACQ.TRADE_STATUS_ERROR"
    assert app.precreate(paid_no, "9.90").node["sub_code"] == "ACQ.TRADE_HAS_SUCCESS"


def test_barcode_immediate_waiting_and_invalid(app: AlipayApp) -> None:
    def pay(order_no: str, code: str) -> dict[str, str]:
        biz = {"out_trade_no": order_no, "total_amount": "3.00", "subject": "s", "scene": "bar_code"}
        return app.call("alipay.trade.pay", {**biz, "auth_code": code}).node

    now = pay(no(), "281234567890123456")
    assert now["code"] == "10000" and now["total_amount"] == "3.00" and now["gmt_payment"]
    waiting_no = no()
    waiting = pay(waiting_no, "261234567890123456")
    assert waiting["code"] == "10003"
    app.control("POST", "/pay", json={"out_trade_no": waiting_no})
    assert (
        app.call("alipay.trade.query", {"out_trade_no": waiting_no}).node["trade_status"] == "TRADE_SUCCESS"
    )
    cancelled_no = no()
    pay(cancelled_no, "261234567890123457")
    cancel = app.call("alipay.trade.cancel", {"out_trade_no": cancelled_no}).node
    assert (cancel["code"], cancel["action"]) == ("10000", "close")
    bad = pay(no(), "251234567890123456")
    assert bad["sub_code"] == "ACQ.PAYMENT_AUTH_CODE_INVALID"


def test_faults_answer_service_unavailable(app: AlipayApp) -> None:
    plan = {"seed": 1, "rules": [{"endpoint": "create", "kind": "error_5xx", "rate": 1.0}]}
    assert app.control("PUT", "/faults", json=plan).status_code == 200
    order_no = no()
    answer = app.precreate(order_no)
    assert answer.response.status_code == 500
    assert (answer.node["code"], answer.node["sub_code"]) == ("20000", "isp.unknow-error")
    assert app.control("GET", f"/orders/{order_no}").status_code == 404  # nothing applied
    plan["rules"] = [{"endpoint": "create", "kind": "system_error", "rate": 1.0}]
    app.control("PUT", "/faults", json=plan)
    answer = app.precreate(order_no)
    assert answer.response.status_code == 200 and answer.node["code"] == "20000"
    assert app.control("GET", f"/orders/{order_no}").json()["trade_status"] == "WAIT_BUYER_PAY"
    assert app.control("GET", "/faults").json()["calls"] == {"create": 1}


def test_page_pay_shows_the_cashier_and_returns_to_the_merchant(app: AlipayApp, http: httpx.Client) -> None:
    order_no = no()
    biz = {
        "out_trade_no": order_no,
        "total_amount": "8.00",
        "subject": "页面",
        "product_code": "FAST_INSTANT_TRADE_PAY",
    }
    params = app.params("alipay.trade.page.pay", biz, return_url="https://shop.example/back")
    page = http.get(app.running.gateway, params=params)
    assert page.status_code == 200 and "Pay" in page.text and order_no in page.text
    action = f'action="{urlsplit(app.running.base_url).path}/_control/payer/pay"'
    assert action in page.text
    paid = http.post(
        f"{app.running.base_url}/_control/payer/pay", data={"app_id": app.app_id, "out_trade_no": order_no}
    )
    assert paid.status_code == 303
    location = paid.headers["location"]
    assert location.startswith("https://shop.example/back?")
    back = dict(parse_qsl(urlsplit(location).query))
    assert back["out_trade_no"] == order_no and back["total_amount"] == "8.00"
    assert app.alipay_key is not None
    assert protocol.verify_params(app.alipay_key, back, notification=True)
    record = app.control("GET", f"/orders/{order_no}").json()
    assert record["trade_status"] == "TRADE_SUCCESS" and record["method"] == "alipay.trade.page.pay"


def test_payer_page_by_qr_code(app: AlipayApp, http: httpx.Client) -> None:
    qr = app.precreate(no(), "2.00").node["qr_code"]
    page = http.get(f"{app.running.base_url}/_control/payer", params={"qr_code": qr})
    assert page.status_code == 200 and "¥2.00" in page.text
    assert http.get(f"{app.running.base_url}/_control/payer", params={"qr_code": "nope"}).status_code == 404


def test_registering_with_a_bad_key_is_a_control_error(alipay: Running, http: httpx.Client) -> None:
    response = http.post(
        f"{alipay.base_url}/_control/merchants", json={"app_id": "2021000000000009", "public_key_pem": "x"}
    )
    assert response.status_code == 400
    pem = samples.public_pem(samples.new_rsa_key())
    ok = http.post(
        f"{alipay.base_url}/_control/merchants", json={"app_id": "2021000000000009", "public_key_pem": pem}
    )
    assert "alipay_public_key_pem" in ok.json()
