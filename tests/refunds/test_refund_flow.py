"""Refunds through the merchant API against the WeChat Pay simulator: full, partial, several, and
never more than was captured; the channel's final word reaches the merchant once."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx

from tests.refunds.support import event_types, paid, refund
from tests.support.factories import error_of, ok
from tests.support.receiver import Receiver
from tests.support.stack import Stack
from tests.support.wechat import WeChatMerchant, sim_faults, sim_order


def test_partial_refunds_add_up_to_the_captured_total_and_the_next_one_is_refused(
    tongbao: Stack, shop: WeChatMerchant, receiver: Receiver
) -> None:
    payment = paid(tongbao, shop, amount=1000)
    first = ok(refund(shop, payment["id"], 300, reason="one cup returned"), 201)
    assert (first["status"], first["amount"], first["out_trade_no"]) == (
        "pending",
        300,
        payment["out_trade_no"],
    )
    tongbao.wechatpay_wait()  # the channel's refund callback
    assert ok(shop.client.get(f"/v1/refunds/{first['id']}"))["status"] == "succeeded"
    after_first = shop.payment(payment["id"])
    assert (after_first["status"], after_first["refunded_amount"]) == ("refunded_partially", 300)

    refused = error_of(refund(shop, payment["id"], 701), 409)
    assert (refused["code"], refused["param"]) == ("refund_exceeds_remaining", "amount")
    assert "at most 700" in refused["message"]
    second = ok(refund(shop, payment["id"], 700), 201)
    tongbao.wechatpay_wait()
    found = ok(shop.client.get("/v1/refunds", params={"out_refund_no": second["out_refund_no"]}))
    assert (found["id"], found["status"]) == (second["id"], "succeeded")
    # Nothing is left: the payment is refunded, and takes no more (the same refusal as before the
    # earlier refunds settled: one intent, one code).
    refused = error_of(refund(shop, payment["id"], 1), 409)
    assert (refused["code"], refused["param"]) == ("refund_exceeds_remaining", "amount")
    assert "at most 0 of 1000" in refused["message"]

    final = shop.payment(payment["id"])
    assert (final["status"], final["captured_amount"], final["refunded_amount"]) == ("refunded", 1000, 1000)
    assert [(r["id"], r["amount"], r["status"]) for r in final["refunds"]] == [
        (first["id"], 300, "succeeded"),
        (second["id"], 700, "succeeded"),
    ]  # the refused requests left nothing behind
    channel = sim_order(tongbao, payment["captured_attempt_id"])
    assert sorted((r["refund_no"], r["amount"], r["status"]) for r in channel["refunds"]) == sorted(
        [(first["id"], 300, "SUCCESS"), (second["id"], 700, "SUCCESS")]
    )
    # Each refund is told once, signed, with its final state.
    tongbao.run_jobs()
    assert event_types(shop, payment["id"]) == ["payment.succeeded", "refund.succeeded", "refund.succeeded"]
    bodies = [r for r in receiver.wait_for(3) if b'"refund.succeeded"' in r.body]
    assert len(bodies) == 2
    for received in bodies:
        event = shop.client.verify_notification(received.headers, received.body)
        assert event["data"]["status"] == "succeeded"
    assert {shop.client.verify_notification(r.headers, r.body)["data"]["id"] for r in bodies} == {
        first["id"],
        second["id"],
    }


def test_a_full_refund_by_out_trade_no_refunds_the_payment(tongbao: Stack, shop: WeChatMerchant) -> None:
    payment = paid(tongbao, shop, amount=1234)
    body = {"out_trade_no": payment["out_trade_no"], "out_refund_no": "full-1", "amount": 1234}
    created = ok(shop.client.post("/v1/refunds", json=body), 201)
    tongbao.wechatpay_wait()
    assert shop.payment(payment["id"])["status"] == "refunded"
    # The same request again is the same refund, answered 200; nothing new at the channel.
    again = ok(shop.client.post("/v1/refunds", json=body), 200)
    assert (again["id"], again["status"]) == (created["id"], "succeeded")
    assert len(sim_order(tongbao, payment["captured_attempt_id"])["refunds"]) == 1


def test_a_refund_that_times_out_at_the_channel_is_settled_by_the_janitor(
    tongbao: Stack, shop: WeChatMerchant
) -> None:
    payment = paid(tongbao, shop, amount=500)
    # The channel takes the refund but answers too late, and its callback is lost.
    sim_faults(
        tongbao,
        {"endpoint": "refund", "kind": "timeout", "rate": 1.0, "hang_s": 5},
        {"endpoint": "refund_callback", "kind": "lost", "rate": 1.0},
    )
    created = ok(refund(shop, payment["id"], 200), 201)
    assert created["status"] == "pending"  # unknown: the channel may have taken it
    ok(httpx.delete(f"{tongbao.wechatpay_url}/_control/faults", timeout=10))
    tongbao.wechatpay_wait()
    tongbao.clock.advance(61)
    tongbao.run_jobs()  # the janitor asks the channel, which has it
    assert ok(shop.client.get(f"/v1/refunds/{created['id']}"))["status"] == "succeeded"
    assert shop.payment(payment["id"])["refunded_amount"] == 200
    assert len(sim_order(tongbao, payment["captured_attempt_id"])["refunds"]) == 1
    tongbao.wechatpay_wait()
    tongbao.run_jobs()
    assert event_types(shop, payment["id"]) == ["payment.succeeded", "refund.succeeded"]


def test_a_refund_the_channel_never_received_is_submitted_again_by_the_janitor(
    tongbao: Stack, shop: WeChatMerchant
) -> None:
    payment = paid(tongbao, shop, amount=500)
    sim_faults(tongbao, {"endpoint": "refund", "kind": "error_5xx", "rate": 1.0})
    created = ok(refund(shop, payment["id"], 500), 201)
    assert created["status"] == "pending"
    assert sim_order(tongbao, payment["captured_attempt_id"])["refunds"] == []
    ok(httpx.delete(f"{tongbao.wechatpay_url}/_control/faults", timeout=10))
    tongbao.clock.advance(61)
    tongbao.run_jobs()  # the query finds nothing; the refund goes in again under the same number
    tongbao.wechatpay_wait()
    assert ok(shop.client.get(f"/v1/refunds/{created['id']}"))["status"] == "succeeded"
    assert [r["refund_no"] for r in sim_order(tongbao, payment["captured_attempt_id"])["refunds"]] == [
        created["id"]
    ]


def test_a_refund_the_channel_keeps_processing_is_asked_about_until_it_is_final(
    tongbao: Stack, shop: WeChatMerchant
) -> None:
    tongbao.clock.stop()  # the sync job's ladder is stepped on a second past each rung
    payment = paid(tongbao, shop, amount=500)
    sim_faults(tongbao, {"endpoint": "refund", "kind": "processing", "rate": 1.0, "polls": 2})
    created = ok(refund(shop, payment["id"], 100), 201)
    tongbao.wechatpay_wait()
    assert ok(shop.client.get(f"/v1/refunds/{created['id']}"))["status"] == "pending"
    for minutes in (1, 5, 15):
        tongbao.clock.offset = timedelta(minutes=minutes, seconds=1)
        tongbao.run_jobs()
        tongbao.wechatpay_wait()
    assert ok(shop.client.get(f"/v1/refunds/{created['id']}"))["status"] == "succeeded"
    tongbao.run_jobs()
    assert event_types(shop, payment["id"]) == ["payment.succeeded", "refund.succeeded"]


def test_an_abnormal_refund_fails_with_the_channels_reason_and_operators_see_it(
    tongbao: Stack, shop: WeChatMerchant, admin: httpx.Client
) -> None:
    payment = paid(tongbao, shop, amount=800)
    sim_faults(tongbao, {"endpoint": "refund", "kind": "abnormal", "rate": 1.0})
    created = ok(refund(shop, payment["id"], 800), 201)
    tongbao.wechatpay_wait()
    failed = ok(shop.client.get(f"/v1/refunds/{created['id']}"))
    assert failed["status"] == "failed"
    assert "ABNORMAL" in failed["failure_reason"]
    # Nothing went back: the whole amount may be refunded again (e.g. once the payer has a new card).
    assert shop.payment(payment["id"])["status"] == "succeeded"
    cases = ok(admin.get("/admin/v1/exception-cases", params={"payment_id": payment["id"]}))["data"]
    assert [(c["kind"], c["refund_id"], c["status"]) for c in cases] == [
        ("refund_failed", created["id"], "open")
    ]
    assert "ABNORMAL" in cases[0]["summary"]
    alerts = ok(admin.get("/admin/v1/alerts"))["data"]
    assert any(a["kind"] == "case.refund_failed" and a["subject_id"] == cases[0]["id"] for a in alerts)
    tongbao.run_jobs()
    assert event_types(shop, payment["id"]) == ["payment.succeeded", "refund.failed"]
    ok(httpx.delete(f"{tongbao.wechatpay_url}/_control/faults", timeout=10))
    ok(refund(shop, payment["id"], 800), 201)


def test_a_refund_still_processing_after_a_day_is_flagged_to_operators_and_settles_the_flag_when_final(
    tongbao: Stack, shop: WeChatMerchant, admin: httpx.Client
) -> None:
    payment = paid(tongbao, shop, amount=500)
    sim_faults(tongbao, {"endpoint": "refund", "kind": "processing", "rate": 1.0, "polls": 100})
    created = ok(refund(shop, payment["id"], 100), 201)

    def cases() -> list[dict[str, Any]]:
        found = admin.get("/admin/v1/exception-cases", params={"payment_id": payment["id"]})
        return ok(found)["data"]  # type: ignore[no-any-return]

    # The ladder (1, 5, 15 minutes), then hourly from 1h15m: at 24h, 26 queries are not yet a day …
    for _ in range(24):
        tongbao.clock.advance(3600)
        tongbao.run_jobs()
    assert cases() == []
    # … and the 27th, at 24h15m, is.
    tongbao.clock.advance(15 * 60 + 1)
    tongbao.run_jobs()
    [case] = cases()
    assert (case["kind"], case["refund_id"], case["status"]) == ("refund_overdue", created["id"], "open")
    alerts = ok(admin.get("/admin/v1/alerts"))["data"]
    assert any(a["kind"] == "case.refund_overdue" and a["subject_id"] == case["id"] for a in alerts)
    assert ok(shop.client.get(f"/v1/refunds/{created['id']}"))["status"] == "pending"
    # The channel finishes it at last: the refund succeeds and the flag is settled by itself.
    ok(
        httpx.post(
            f"{tongbao.wechatpay_url}/_control/refunds/settle",
            json={"refund_no": created["id"], "outcome": "success"},
        )
    )
    tongbao.wechatpay_wait()
    assert ok(shop.client.get(f"/v1/refunds/{created['id']}"))["status"] == "succeeded"
    [settled] = cases()
    assert (settled["status"], settled["resolution"]) == ("resolved", "succeeded")
