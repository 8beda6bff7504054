"""Many refunds of one payment at the same moment: the payment's row lock lets exactly as many through
as there is money captured, and every other request gets a clear refusal."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import httpx

from tests.refunds.support import paid, refund
from tests.support.factories import ok
from tests.support.stack import Stack
from tests.support.wechat import WeChatMerchant, sim_order

REQUESTS = 50
CAPTURED = 20


def test_fifty_one_fen_refunds_at_once_on_twenty_fen_let_exactly_twenty_through(
    tongbao: Stack, shop: WeChatMerchant
) -> None:
    payment = paid(tongbao, shop, amount=CAPTURED)
    with ThreadPoolExecutor(max_workers=REQUESTS) as pool:
        answers: list[httpx.Response] = list(
            pool.map(lambda n: refund(shop, payment["id"], 1, out_refund_no=f"burst-{n}"), range(REQUESTS))
        )
    statuses = sorted(a.status_code for a in answers)
    assert statuses == [201] * CAPTURED + [409] * (REQUESTS - CAPTURED)
    refused = [a.json()["error"] for a in answers if a.status_code == 409]
    # Refused with one code, whether the twenty were still pending or had succeeded already.
    assert {(e["code"], e["param"]) for e in refused} == {("refund_exceeds_remaining", "amount")}
    tongbao.wechatpay_wait()
    tongbao.run_jobs()
    final = shop.payment(payment["id"])
    assert (final["status"], final["refunded_amount"]) == ("refunded", CAPTURED)
    assert [r["status"] for r in final["refunds"]] == ["succeeded"] * CAPTURED
    assert len(sim_order(tongbao, payment["captured_attempt_id"])["refunds"]) == CAPTURED
    made = {a.json()["out_refund_no"] for a in answers if a.status_code == 201}
    assert {r["out_refund_no"] for r in final["refunds"]} == made
    events = ok(shop.client.get("/v1/notifications", params={"payment_id": payment["id"]}))["data"]
    assert sum(e["type"] == "refund.succeeded" for e in events) == CAPTURED


ROUNDS = 4
SAME_AT_ONCE = 8


def test_the_same_full_refund_sent_eight_times_at_once_is_one_refund_and_never_refused(
    tongbao: Stack, shop: WeChatMerchant
) -> None:
    for round_no in range(ROUNDS):
        payment = paid(tongbao, shop, amount=500)
        number = f"same-{round_no}"
        with ThreadPoolExecutor(max_workers=SAME_AT_ONCE) as pool:
            sent = [
                pool.submit(refund, shop, payment["id"], 500, out_refund_no=number)
                for _ in range(SAME_AT_ONCE)
            ]
            answers = [f.result() for f in sent]
        assert sorted(a.status_code for a in answers) == [200] * (SAME_AT_ONCE - 1) + [201], [
            a.text for a in answers
        ]
        assert len({a.json()["id"] for a in answers}) == 1
        tongbao.wechatpay_wait()
        final = shop.payment(payment["id"])
        assert [(r["out_refund_no"], r["amount"]) for r in final["refunds"]] == [(number, 500)]
        assert len(sim_order(tongbao, payment["captured_attempt_id"])["refunds"]) == 1
