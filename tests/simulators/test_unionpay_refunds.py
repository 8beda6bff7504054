"""Refunds (退货) at the UnionPay simulator, over HTTP, at the root and mounted: ``backTransReq.do``
accepts, the refund settles and is notified to its backUrl, ``queryTrans.do`` reports it, and the
control API shows and settles it."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tongbao.channels.unionpay import protocol
from tongbao.ids import new_id

from .support import Receiver, wait_until
from .test_unionpay_support import (  # noqa: F401  (the fixtures register by import)
    Running,
    UpMerchant,
    new_order_id,
    notifies,
    serving,
    stranger_key,
    up_merchant_fixture,
)


@pytest.fixture(name="unionpay", scope="module", params=["root", "mounted"])
def unionpay_fixture(request: pytest.FixtureRequest) -> Iterator[Running]:
    yield from serving(request.param == "mounted", refund_settle_s=0.05)


@pytest.fixture
def sink(receiver: tuple[Receiver, str]) -> str:
    """A backUrl on this machine that takes every notify and that no test reads."""
    return f"{receiver[1]}/notify/sink-{secrets.token_hex(4)}"


@dataclass
class Back:
    """A backUrl on this machine whose notifies a test reads: the receiver, its base URL and the path."""

    receiver: Receiver
    base: str
    path: str

    @property
    def url(self) -> str:
        return self.base + self.path


@pytest.fixture
def back(receiver: tuple[Receiver, str], notify_path: str) -> Back:
    return Back(receiver[0], receiver[1], notify_path)


def paid_order(
    http: httpx.Client, unionpay: Running, merchant: UpMerchant, back_url: str, amount: int = 1000
) -> dict[str, Any]:
    fields = merchant.sign(merchant.front_params(new_order_id(), back_url, amount))
    assert merchant.post_front(http, fields).status_code == 200
    paid = http.post(f"{unionpay.base_url}/_control/pay", json={"out_trade_no": fields["orderId"]})
    assert paid.status_code == 200, paid.text
    return dict(paid.json())


@pytest.fixture
def order(http: httpx.Client, unionpay: Running, up_merchant: UpMerchant, sink: str) -> dict[str, Any]:
    """A payment of 1000 fen, made before the test begins."""
    return paid_order(http, unionpay, up_merchant, sink, 1000)


def refund_params(
    merchant: UpMerchant, orig_qry_id: str, amount: int, back_url: str, **extra: str
) -> dict[str, str]:
    refund_no = new_id("refund")
    return {
        "version": "5.1.0",
        "encoding": "UTF-8",
        "signMethod": "01",
        "txnType": "04",
        "txnSubType": "00",
        "bizType": "000201",
        "channelType": "07",
        "accessType": "0",
        "merId": merchant.mer_id,
        "orderId": protocol.order_id(refund_no),
        "txnTime": protocol.txn_time(refund_no),
        "txnAmt": str(amount),
        "currencyCode": "156",
        "origQryId": orig_qry_id,
        "backUrl": back_url,
        **extra,
    }


def post_refund(
    http: httpx.Client, merchant: UpMerchant, fields: dict[str, str], **kwargs: Any
) -> dict[str, str]:
    response = http.post(f"{merchant.base_url}{protocol.BACK_PATH}", data=fields, **kwargs)
    assert response.status_code == 200, response.text
    answer = protocol.parse_answer(response.content)
    assert protocol.verify(merchant.unionpay_key, answer)
    return answer


def submit(
    http: httpx.Client, merchant: UpMerchant, orig_qry_id: str, amount: int, back_url: str
) -> dict[str, str]:
    """Signs and posts a refund of ``amount`` of the payment ``orig_qry_id``: the gateway's answer."""
    return post_refund(http, merchant, merchant.sign(refund_params(merchant, orig_qry_id, amount, back_url)))


def refunds_of(http: httpx.Client, unionpay: Running, order_id: str) -> list[dict[str, Any]]:
    record = http.get(f"{unionpay.base_url}/_control/orders/{order_id}").json()
    return list(record["refunds"])


def install(http: httpx.Client, unionpay: Running, *rules: dict[str, Any]) -> None:
    plan = {"seed": 3, "rules": list(rules)}
    assert http.put(f"{unionpay.base_url}/_control/faults", json=plan).status_code == 200


def test_a_refund_is_accepted_then_settles_and_is_notified_signed(
    unionpay: Running, up_merchant: UpMerchant, http: httpx.Client, back: Back, order: dict[str, Any]
) -> None:
    fields = up_merchant.sign(refund_params(up_merchant, order["query_id"], 1000, back.url))
    answer = post_refund(http, up_merchant, fields)
    # Accepted, not done: the result comes to backUrl.
    assert (answer["respCode"], answer["txnType"], answer["orderId"]) == ("00", "04", fields["orderId"])
    assert answer["origQryId"] == order["query_id"] and len(answer["queryId"]) == 21
    assert answer["queryId"] != order["query_id"] and "origRespCode" not in answer

    (notify,) = notifies(back.receiver, back.path, 1)
    assert protocol.verify(up_merchant.unionpay_key, notify)
    assert (notify["txnType"], notify["txnSubType"], notify["respCode"]) == ("04", "00", "00")
    assert (notify["orderId"], notify["txnTime"], notify["txnAmt"]) == (
        fields["orderId"],
        fields["txnTime"],
        "1000",
    )
    assert notify["queryId"] == answer["queryId"] and notify["origQryId"] == order["query_id"]
    assert len(notify["traceTime"]) == 10

    queried = up_merchant.query(http, fields["orderId"], fields["txnTime"])
    assert (queried["respCode"], queried["origRespCode"], queried["txnAmt"]) == ("00", "00", "1000")
    assert queried["queryId"] == answer["queryId"] and queried["origQryId"] == order["query_id"]
    assert protocol.verify(up_merchant.unionpay_key, queried)

    (refund,) = refunds_of(http, unionpay, order["order_id"])
    assert refund["refund_no"] == fields["orderId"] and refund["channel_refund_no"] == answer["queryId"]
    assert (refund["amount"], refund["status"], refund["resp_code"]) == (1000, "SUCCESS", "00")
    assert refund["created_at"] and refund["finished_at"]
    wait_until(lambda: refunds_of(http, unionpay, order["order_id"])[0]["notifies"])
    assert [
        entry["status_code"] for entry in refunds_of(http, unionpay, order["order_id"])[0]["notifies"]
    ] == [200]


def test_partial_refunds_up_to_the_paid_amount_then_refused(
    unionpay: Running, up_merchant: UpMerchant, http: httpx.Client, sink: str, order: dict[str, Any]
) -> None:
    for amount in (400, 500, 100):
        answer = submit(http, up_merchant, order["query_id"], amount, sink)
        assert answer["respCode"] == "00"
    over = submit(http, up_merchant, order["query_id"], 1, sink)
    assert over["respCode"] == "33" and "超限" in over["respMsg"]
    assert [r["amount"] for r in refunds_of(http, unionpay, order["order_id"])] == [400, 500, 100]


def test_the_same_refund_submitted_again_is_the_same_refund(
    unionpay: Running, up_merchant: UpMerchant, http: httpx.Client, sink: str, order: dict[str, Any]
) -> None:
    params = refund_params(up_merchant, order["query_id"], 600, sink)
    first = post_refund(http, up_merchant, up_merchant.sign(params))
    again = post_refund(http, up_merchant, up_merchant.sign(params))
    assert again["respCode"] == "00" and again["queryId"] == first["queryId"]
    assert len(refunds_of(http, unionpay, order["order_id"])) == 1
    # The same orderId and txnTime with another amount, or naming the payment itself, is a duplicate.
    reused = post_refund(http, up_merchant, up_merchant.sign({**params, "txnAmt": "300"}))
    assert (reused["respCode"], reused["respMsg"]) == ("12", "重复交易")
    payment_id = {**params, "orderId": order["order_id"], "txnTime": order["txn_time"]}
    assert post_refund(http, up_merchant, up_merchant.sign(payment_id))["respCode"] == "12"
    assert len(refunds_of(http, unionpay, order["order_id"])) == 1


def test_refunds_of_unknown_or_foreign_payments_are_refused(
    unionpay: Running, up_merchant: UpMerchant, http: httpx.Client, sink: str
) -> None:
    unknown = submit(http, up_merchant, "1" * 21, 100, sink)
    assert (unknown["respCode"], unknown["respMsg"]) == ("35", "原交易不存在或状态不正确")
    order = paid_order(http, unionpay, up_merchant, sink, 1000)
    other = UpMerchant(unionpay.base_url).register(http)
    foreign = submit(http, other, order["query_id"], 100, sink)
    assert foreign["respCode"] == "35"
    forged = post_refund(
        http,
        up_merchant,
        up_merchant.sign(refund_params(up_merchant, order["query_id"], 100, sink), key=stranger_key()),
    )
    assert forged["respCode"] == "11"
    missing = {
        k: v for k, v in refund_params(up_merchant, order["query_id"], 100, sink).items() if k != "origQryId"
    }
    assert post_refund(http, up_merchant, up_merchant.sign(missing))["respCode"] == "30"
    assert refunds_of(http, unionpay, order["order_id"]) == []


def test_a_query_about_an_unknown_refund_answers_34(
    up_merchant: UpMerchant, http: httpx.Client, sink: str
) -> None:
    params = refund_params(up_merchant, "1" * 21, 100, sink)
    answer = up_merchant.query(http, params["orderId"], params["txnTime"])
    assert answer["respCode"] == "34"


def test_a_processing_fault_holds_the_refund_for_its_polls(
    unionpay: Running, up_merchant: UpMerchant, http: httpx.Client, back: Back, order: dict[str, Any]
) -> None:
    install(http, unionpay, {"endpoint": "refund", "kind": "processing", "rate": 1.0, "polls": 2})
    fields = up_merchant.sign(refund_params(up_merchant, order["query_id"], 700, back.url))
    assert post_refund(http, up_merchant, fields)["respCode"] == "00"
    for _ in range(2):
        held = up_merchant.query(http, fields["orderId"], fields["txnTime"])
        assert (held["respCode"], held["origRespCode"]) == ("00", "05")
    assert back.receiver.received(back.path) == []
    assert up_merchant.query(http, fields["orderId"], fields["txnTime"])["origRespCode"] == "00"
    (notify,) = notifies(back.receiver, back.path, 1)
    assert notify["respCode"] == "00"
    calls = http.get(f"{unionpay.base_url}/_control/faults").json()["calls"]
    assert calls == {"refund": 1, "refund_query": 3, "refund_callback": 1}


def test_an_abnormal_refund_fails_and_gives_its_amount_back(
    unionpay: Running,
    up_merchant: UpMerchant,
    http: httpx.Client,
    back: Back,
    sink: str,
    order: dict[str, Any],
) -> None:
    install(http, unionpay, {"endpoint": "refund", "kind": "abnormal", "rate": 1.0})
    fields = up_merchant.sign(refund_params(up_merchant, order["query_id"], 1000, back.url))
    assert post_refund(http, up_merchant, fields)["respCode"] == "00"
    (notify,) = notifies(back.receiver, back.path, 1)
    assert notify["respCode"] == "63" and "卡状态不正确" in notify["respMsg"]
    assert protocol.verify(up_merchant.unionpay_key, notify)
    failed = up_merchant.query(http, fields["orderId"], fields["txnTime"])
    assert (failed["respCode"], failed["origRespCode"]) == ("00", "63") and "销户" in failed["origRespMsg"]
    (refund,) = refunds_of(http, unionpay, order["order_id"])
    assert refund["status"] == "FAILED" and refund["finished_at"]
    # The failed refund took nothing: the whole amount can go back again.
    http.delete(f"{unionpay.base_url}/_control/faults")
    again = submit(http, up_merchant, order["query_id"], 1000, sink)
    assert again["respCode"] == "00"


@pytest.mark.parametrize(
    ("rule", "recorded"),
    [
        ({"kind": "error_5xx"}, False),
        ({"kind": "system_error"}, True),
        ({"kind": "timeout", "hang_s": 3.0}, True),
        ({"kind": "timeout", "hang_s": 3.0, "before": True}, False),
    ],
)
def test_refund_faults_and_what_the_query_shows_afterwards(
    unionpay: Running,
    up_merchant: UpMerchant,
    http: httpx.Client,
    rule: dict[str, Any],
    recorded: bool,
    sink: str,
    order: dict[str, Any],
) -> None:
    install(http, unionpay, {"endpoint": "refund", "rate": 1.0, **rule})
    fields = up_merchant.sign(refund_params(up_merchant, order["query_id"], 100, sink))
    try:
        response = http.post(f"{unionpay.base_url}{protocol.BACK_PATH}", data=fields, timeout=0.5)
    except httpx.TimeoutException:
        assert rule["kind"] == "timeout"
    else:
        if rule["kind"] == "error_5xx":
            assert response.status_code == 500
        else:
            assert protocol.parse_answer(response.content)["respCode"] == "03"
    http.delete(f"{unionpay.base_url}/_control/faults")
    answer = up_merchant.query(http, fields["orderId"], fields["txnTime"])
    assert (answer["respCode"] != "34") is recorded
    assert len(refunds_of(http, unionpay, order["order_id"])) == int(recorded)


def test_refund_query_faults_are_their_own(
    unionpay: Running, up_merchant: UpMerchant, http: httpx.Client, sink: str, order: dict[str, Any]
) -> None:
    fields = up_merchant.sign(refund_params(up_merchant, order["query_id"], 100, sink))
    post_refund(http, up_merchant, fields)
    install(http, unionpay, {"endpoint": "refund_query", "kind": "system_error", "rate": 1.0})
    assert up_merchant.query(http, fields["orderId"], fields["txnTime"])["respCode"] == "03"
    # A query about the payment is not a refund query.
    assert up_merchant.query(http, order["order_id"], order["txn_time"])["respCode"] == "00"


def test_refund_callback_faults(
    unionpay: Running, up_merchant: UpMerchant, http: httpx.Client, back: Back, order: dict[str, Any]
) -> None:
    install(
        http,
        unionpay,
        {"endpoint": "refund_callback", "kind": "duplicate", "rate": 1.0, "copies": 2},
        {"endpoint": "callback", "kind": "lost", "rate": 1.0},  # payments' notifies: not these
    )
    duplicated = up_merchant.sign(refund_params(up_merchant, order["query_id"], 300, back.url))
    post_refund(http, up_merchant, duplicated)
    first, second = notifies(back.receiver, back.path, 2)
    assert first == second
    lost_path = back.path + "x"
    install(http, unionpay, {"endpoint": "refund_callback", "kind": "lost", "rate": 1.0})
    lost = up_merchant.sign(refund_params(up_merchant, order["query_id"], 300, back.base + lost_path))
    post_refund(http, up_merchant, lost)
    wait_until(lambda: refunds_of(http, unionpay, order["order_id"])[1]["notifies"])
    assert (
        refunds_of(http, unionpay, order["order_id"])[1]["notifies"][0]["error"] == "not sent: fault 'lost'"
    )
    assert back.receiver.received(lost_path) == []
    assert up_merchant.query(http, lost["orderId"], lost["txnTime"])["origRespCode"] == "00"


def test_the_control_api_settles_a_processing_refund(
    unionpay: Running, up_merchant: UpMerchant, http: httpx.Client, back: Back, order: dict[str, Any]
) -> None:
    install(http, unionpay, {"endpoint": "refund", "kind": "processing", "rate": 1.0, "polls": 100})
    fields = up_merchant.sign(refund_params(up_merchant, order["query_id"], 200, back.url))
    post_refund(http, up_merchant, fields)
    assert refunds_of(http, unionpay, order["order_id"])[0]["status"] == "PROCESSING"
    settle = f"{unionpay.base_url}/_control/refunds/settle"
    assert http.post(settle, json={"refund_no": fields["orderId"], "outcome": "maybe"}).status_code == 400
    assert http.post(settle, json={"refund_no": "nosuchrefund", "outcome": "success"}).status_code == 404
    settled = http.post(settle, json={"refund_no": fields["orderId"], "outcome": "abnormal"})
    assert settled.status_code == 200 and settled.json()["status"] == "FAILED"
    (notify,) = notifies(back.receiver, back.path, 1)
    assert notify["respCode"] == "63"
    again = http.post(settle, json={"refund_no": fields["orderId"], "outcome": "success"})
    assert again.status_code == 409 and again.json()["code"] == "REFUND_FINISHED"
    assert up_merchant.query(http, fields["orderId"], fields["txnTime"])["origRespCode"] == "63"
