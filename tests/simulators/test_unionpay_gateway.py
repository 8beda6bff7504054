"""The UnionPay simulator's front transaction, query and faults, over HTTP, at the root and mounted."""

from __future__ import annotations

import httpx
import pytest

from tongbao.channels.unionpay import protocol

from .test_unionpay_support import (  # noqa: F401  (the fixtures register by import)
    Running,
    UpMerchant,
    new_order_id,
    start_simulator,
    stranger_key,
    token_of,
    unionpay_fixture,
    up_merchant_fixture,
)

BACK_URL = "https://shop.example/notify"


def open_order(http: httpx.Client, merchant: UpMerchant, amount: int = 1234) -> dict[str, str]:
    fields = merchant.sign(merchant.front_params(new_order_id(), BACK_URL, amount))
    response = merchant.post_front(http, fields)
    assert response.status_code == 200, response.text
    return fields


def test_registration_returns_the_gateway_certificate_and_its_decimal_serial(
    up_merchant: UpMerchant,
) -> None:
    certificate = protocol.load_certificate(up_merchant.answer["unionpay_certificate_pem"])
    assert up_merchant.answer["cert_id"] == str(certificate.serial_number)
    assert up_merchant.answer["cert_id"].isdigit()


def test_front_transaction_creates_the_order_and_shows_the_payer_page(
    unionpay: Running, up_merchant: UpMerchant, http: httpx.Client
) -> None:
    fields = up_merchant.sign(up_merchant.front_params(new_order_id(), BACK_URL, amount=1234))
    response = up_merchant.post_front(http, fields)
    assert response.status_code == 200
    assert "¥12.34" in response.text and "Pay</button>" in response.text
    record = http.get(f"{unionpay.base_url}/_control/orders/{fields['orderId']}").json()
    assert record["state"] == "OPEN" and record["txn_amt"] == 1234 and record["back_url"] == BACK_URL
    # The payer's page can be opened again by its token.
    page = http.get(f"{unionpay.base_url}/_control/payer", params={"token": token_of(response.text)})
    assert page.status_code == 200 and fields["orderId"] in page.text
    # The browser posting the same form again shows the same order.
    assert up_merchant.post_front(http, fields).status_code == 200


@pytest.mark.parametrize(
    ("tamper", "resp_code"),
    [
        ("forged", "11"),
        ("wrong_cert_id", "11"),
        ("changed_amount", "11"),
        ("unknown_merchant", "31"),
        ("underscore_order_id", "30"),
        ("missing_back_url", "30"),
    ],
)
def test_front_transactions_that_cannot_be_believed_are_refused(
    unionpay: Running, up_merchant: UpMerchant, http: httpx.Client, tamper: str, resp_code: str
) -> None:
    params = up_merchant.front_params(new_order_id(), BACK_URL)
    if tamper == "forged":
        fields = up_merchant.sign(params, key=stranger_key())
    elif tamper == "wrong_cert_id":
        fields = up_merchant.sign(params, cert_id="1234567890")
    elif tamper == "changed_amount":
        fields = {**up_merchant.sign(params), "txnAmt": "1"}
    elif tamper == "unknown_merchant":
        fields = up_merchant.sign({**params, "merId": "777000000000000"})
    elif tamper == "underscore_order_id":
        fields = up_merchant.sign({**params, "orderId": "pat_01JABCDEFGH"})
    else:
        fields = up_merchant.sign({k: v for k, v in params.items() if k != "backUrl"})
    response = up_merchant.post_front(http, fields)
    assert response.status_code == 400
    assert f"respCode={resp_code}" in response.text
    missing = http.get(f"{unionpay.base_url}/_control/orders/{params['orderId']}")
    assert missing.status_code == 404


def test_query_reports_each_state_in_a_signed_answer(
    unionpay: Running, up_merchant: UpMerchant, http: httpx.Client
) -> None:
    unknown = up_merchant.query(
        http, new_order_id(), protocol.format_time(protocol.parse_time("20260101120000"))
    )
    assert unknown["respCode"] == "34"
    assert protocol.verify(up_merchant.unionpay_key, unknown)
    assert unknown["certId"] == up_merchant.answer["cert_id"]

    fields = open_order(http, up_merchant, amount=500)
    opened = up_merchant.query(http, fields["orderId"], fields["txnTime"])
    assert (opened["respCode"], opened["origRespCode"]) == ("00", "05")
    assert protocol.verify(up_merchant.unionpay_key, opened)

    http.post(
        f"{unionpay.base_url}/_control/pay", json={"out_trade_no": fields["orderId"]}
    ).raise_for_status()
    paid = up_merchant.query(http, fields["orderId"], fields["txnTime"])
    assert (paid["respCode"], paid["origRespCode"], paid["txnAmt"]) == ("00", "00", "500")
    assert paid["txnType"] == "00" and paid["merId"] == up_merchant.mer_id
    assert len(paid["queryId"]) == 21 and len(paid["traceTime"]) == 10
    assert protocol.verify(up_merchant.unionpay_key, paid)
    # The transaction is named by merId + orderId + txnTime: another txnTime is another order.
    assert up_merchant.query(http, fields["orderId"], "20200101000000")["respCode"] == "34"


def test_a_query_that_does_not_verify_is_refused(up_merchant: UpMerchant, http: httpx.Client) -> None:
    answer = up_merchant.query(http, new_order_id(), "20260101120000", key=stranger_key())
    assert answer["respCode"] == "11"
    assert protocol.verify(up_merchant.unionpay_key, answer)


def test_an_unpaid_order_lapses_at_its_pay_timeout() -> None:
    from tests.simulators.support import ManualClock

    clock = ManualClock()
    running = start_simulator(False, clock=clock)
    try:
        with httpx.Client(timeout=10, trust_env=False) as http:
            merchant = UpMerchant(running.base_url).register(http)
            fields = open_order(http, merchant)
            clock.advance(minutes=31)
            assert merchant.query(http, fields["orderId"], fields["txnTime"])["respCode"] == "34"
            paid = http.post(f"{running.base_url}/_control/pay", json={"out_trade_no": fields["orderId"]})
            assert paid.status_code == 400 and paid.json()["code"] == "ORDER_EXPIRED"
    finally:
        running.server.stop()


def test_faults_apply_per_endpoint(unionpay: Running, up_merchant: UpMerchant, http: httpx.Client) -> None:
    fields = open_order(http, up_merchant)
    http.post(
        f"{unionpay.base_url}/_control/pay", json={"out_trade_no": fields["orderId"]}
    ).raise_for_status()
    plan = {
        "seed": 1,
        "rules": [
            {"endpoint": "query", "kind": "processing", "rate": 1.0, "polls": 1},
            {"endpoint": "create", "kind": "error_5xx", "rate": 1.0},
        ],
    }
    assert http.put(f"{unionpay.base_url}/_control/faults", json=plan).status_code == 200
    assert up_merchant.query(http, fields["orderId"], fields["txnTime"])["origRespCode"] == "05"
    assert up_merchant.query(http, fields["orderId"], fields["txnTime"])["origRespCode"] == "00"
    refused = up_merchant.post_front(
        http, up_merchant.sign(up_merchant.front_params(new_order_id(), BACK_URL))
    )
    assert refused.status_code == 500
    assert http.get(f"{unionpay.base_url}/_control/faults").json()["calls"] == {"query": 2, "create": 1}

    plan = {"seed": 1, "rules": [{"endpoint": "query", "kind": "system_error", "rate": 1.0}]}
    http.put(f"{unionpay.base_url}/_control/faults", json=plan).raise_for_status()
    assert up_merchant.query(http, fields["orderId"], fields["txnTime"])["respCode"] == "03"
    plan = {"seed": 1, "rules": [{"endpoint": "query", "kind": "error_5xx", "rate": 1.0}]}
    http.put(f"{unionpay.base_url}/_control/faults", json=plan).raise_for_status()
    failed = http.post(f"{unionpay.base_url}{protocol.QUERY_PATH}", data={"merId": up_merchant.mer_id})
    assert failed.status_code == 500
    assert http.delete(f"{unionpay.base_url}/_control/faults").json() == {"seed": None, "rules": []}
    bad = http.put(f"{unionpay.base_url}/_control/faults", json={"seed": 1, "rules": [{"kind": "nope"}]})
    assert bad.status_code == 400 and bad.json()["code"] == "INVALID_FAULT_PLAN"


def test_control_api_refuses_bad_registrations(unionpay: Running, http: httpx.Client) -> None:
    response = http.post(f"{unionpay.base_url}/_control/merchants", json={"mer_id": "short"})
    assert response.status_code == 400
    response = http.post(
        f"{unionpay.base_url}/_control/merchants", json={"mer_id": "777290058000999", "certificate_pem": "x"}
    )
    assert response.status_code == 400 and response.json()["code"] == "INVALID_REQUEST"
