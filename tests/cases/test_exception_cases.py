"""Exception cases through the admin API: a capture of the wrong amount held for an operator, a late
success and a duplicate capture settled by the merchant's policy or by an operator, every decision
kept with who took it, when and why."""

from __future__ import annotations

import httpx
import pytest

from tests.support.cases import cases_of, decide, events_of, hold_for_review, paid_twice, underpaid
from tests.support.factories import error_of, ok
from tests.support.stack import ADMIN_NAME, Stack
from tests.support.wechat import WeChatMerchant, sim_order
from tests.support.wechat_callbacks import Scene, send


def test_an_operator_accepts_a_mismatched_capture_and_the_payment_succeeds_with_the_true_amount(
    tongbao: Stack, shop: WeChatMerchant, admin: httpx.Client
) -> None:
    created, case = underpaid(tongbao, shop, admin)
    alerts = ok(admin.get("/admin/v1/alerts"))["data"]
    assert any(a["kind"] == "case.amount_mismatch" and a["data"].get("case_id") == case["id"] for a in alerts)
    decided = ok(decide(admin, case["id"], "accept", "the payer's bank confirmed 12.00"))
    assert (decided["status"], decided["resolution"]) == ("resolved", "accepted")
    [action] = decided["history"]
    assert (action["action"], action["actor"], action["reason"]) == (
        "accept",
        ADMIN_NAME,
        "the payer's bank confirmed 12.00",
    )
    assert action["at"] and action["detail"]["amount"] == 1200
    payment = shop.payment(created["id"])
    assert (payment["status"], payment["amount"], payment["captured_amount"]) == ("succeeded", 1234, 1200)
    tongbao.run_jobs()
    assert events_of(shop, created["id"]) == ["payment.succeeded"]
    # A refund may give back at most what was captured.
    over = shop.client.post(
        "/v1/refunds", json={"payment_id": created["id"], "out_refund_no": "r-1", "amount": 1201}
    )
    assert error_of(over, 409)["code"] == "refund_exceeds_remaining"
    # Decided is decided.
    assert error_of(decide(admin, case["id"], "dismiss"), 409)["code"] == "case_closed"


def test_an_operator_sends_a_mismatched_capture_back_and_the_payment_never_succeeds(
    tongbao: Stack, shop: WeChatMerchant, admin: httpx.Client
) -> None:
    created, case = underpaid(tongbao, shop, admin)
    decided = ok(decide(admin, case["id"], "refund", "the payer paid the wrong amount"))
    assert (decided["status"], decided["resolution"]) == ("open", "refund_pending")
    [refund] = decided["refunds"]
    assert (refund["kind"], refund["amount"]) == ("amount_mismatch", 1200)
    assert error_of(decide(admin, case["id"], "accept"), 409)["code"] == "refund_in_progress"
    tongbao.wechatpay_wait()  # the channel's refund callback
    done = ok(admin.get(f"/admin/v1/exception-cases/{case['id']}"))
    assert (done["status"], done["resolution"]) == ("resolved", "refunded")
    assert [(h["action"], h["actor"]) for h in done["history"]] == [
        ("refund", ADMIN_NAME),
        ("refund_succeeded", "system"),
    ]
    order = sim_order(tongbao, created["attempts"][0]["channel_order_no"])
    assert [(r["amount"], r["status"]) for r in order["refunds"]] == [(1200, "SUCCESS")]
    # Nothing is held any more: the payment closes like any unpaid one, and the merchant hears that.
    ok(shop.client.post(f"/v1/payments/{created['id']}/close"))
    payment = shop.payment(created["id"])
    assert (payment["status"], payment["refunds"]) == ("closed", [])
    tongbao.run_jobs()
    assert events_of(shop, created["id"]) == ["payment.closed"]


@pytest.fixture
def closed(tongbao: Stack, admin: httpx.Client, shop: WeChatMerchant) -> Scene:
    """A payment the merchant closed; WeChat Pay will say it was paid after all."""
    payment = ok(shop.create_payment(amount=1234), 201)
    ok(shop.client.post(f"/v1/payments/{payment['id']}/close"))
    return Scene(tongbao, admin, shop, payment)


def test_a_late_success_reopens_the_payment_under_the_default_policy(closed: Scene) -> None:
    assert send(closed.tongbao, closed.genuine()).status_code == 204
    payment = closed.shop.payment(closed.payment["id"])
    assert (payment["status"], payment["captured_amount"]) == ("succeeded", 1234)
    [case] = cases_of(closed.admin, payment["id"])
    assert (case["kind"], case["status"], case["resolution"]) == ("late_success", "resolved", "reopened")
    history = ok(closed.admin.get(f"/admin/v1/exception-cases/{case['id']}"))["history"]
    assert [(h["action"], h["actor"]) for h in history] == [("reopen", "system")]
    closed.tongbao.run_jobs()
    assert events_of(closed.shop, payment["id"]) == ["payment.closed", "payment.succeeded"]
    # The same callback again changes nothing.
    assert send(closed.tongbao, closed.genuine()).status_code == 204
    closed.tongbao.run_jobs()
    assert events_of(closed.shop, payment["id"]) == ["payment.closed", "payment.succeeded"]


def test_a_late_success_held_for_review_waits_for_an_operator_to_reopen_it(closed: Scene) -> None:
    hold_for_review(closed.admin, closed.shop)
    assert send(closed.tongbao, closed.genuine()).status_code == 204
    assert closed.shop.payment(closed.payment["id"])["status"] == "closed"
    [case] = cases_of(closed.admin, closed.payment["id"])
    assert (case["kind"], case["status"]) == ("late_success", "open")
    bad = error_of(decide(closed.admin, case["id"], "accept"), 400)
    assert (bad["code"], bad["param"]) == ("decision_invalid", "decision")
    assert "dismiss, refund, reopen" in bad["message"]
    missing = closed.admin.post(
        f"/admin/v1/exception-cases/{case['id']}/decisions", json={"decision": "reopen"}
    )
    assert (error_of(missing, 400)["param"]) == "reason"
    decided = ok(decide(closed.admin, case["id"], "reopen", "the payer showed the receipt"))
    assert (decided["status"], decided["resolution"]) == ("resolved", "reopened")
    assert decided["history"][0]["actor"] == ADMIN_NAME
    assert closed.shop.payment(closed.payment["id"])["status"] == "succeeded"
    closed.tongbao.run_jobs()
    assert events_of(closed.shop, closed.payment["id"]) == ["payment.closed", "payment.succeeded"]


def test_a_duplicate_capture_held_for_review_is_refunded_on_an_operators_decision(
    tongbao: Stack, shop: WeChatMerchant, admin: httpx.Client
) -> None:
    hold_for_review(admin, shop)
    created = paid_twice(tongbao, shop, 1800)
    tongbao.run_jobs()
    [case] = cases_of(admin, created["id"])
    assert (case["kind"], case["status"], case["refund_id"]) == ("duplicate_payment", "open", None)
    extra = case["attempt_id"]
    assert sim_order(tongbao, extra)["refunds"] == []  # held: nothing sent back yet
    ok(decide(admin, case["id"], "refund", "confirmed with the merchant: paid twice"))
    tongbao.wechatpay_wait()
    done = ok(admin.get(f"/admin/v1/exception-cases/{case['id']}"))
    assert (done["status"], done["resolution"]) == ("resolved", "refunded")
    assert [r["status"] for r in sim_order(tongbao, extra)["refunds"]] == ["SUCCESS"]
    payment = shop.payment(created["id"])
    assert (payment["status"], payment["refunded_amount"]) == ("succeeded", 0)
    assert events_of(shop, created["id"]) == ["payment.succeeded"]


def test_the_exception_policy_is_one_of_two_and_unknown_cases_are_not_found(
    admin: httpx.Client, shop: WeChatMerchant
) -> None:
    path = f"/admin/v1/merchants/{shop.merchant_id}/exception-policy"
    assert ok(admin.get(path)) == {"merchant_id": shop.merchant_id, "policy": "auto_refund"}
    bad = error_of(admin.put(path, json={"policy": "refund_everything"}), 400)
    assert (bad["code"], bad["param"]) == ("policy_unknown", "policy")
    assert ok(admin.get(path))["policy"] == "auto_refund"
    missing = error_of(admin.get("/admin/v1/merchants/mch_00000000000000000000000000/exception-policy"), 404)
    assert (missing["code"], missing["param"]) == ("resource_missing", "merchant_id")
    unknown = error_of(decide(admin, "exc_00000000000000000000000000", "dismiss"), 404)
    assert unknown["code"] == "case_not_found"
    assert shop.client.get("/admin/v1/exception-cases").status_code == 401


def test_a_mismatched_capture_holds_the_payment_past_its_expiry_until_an_operator_decides(
    tongbao: Stack, shop: WeChatMerchant, admin: httpx.Client
) -> None:
    created, case = underpaid(tongbao, shop, admin)
    tongbao.clock.advance(3 * 3600)  # past the payment's expiry: the channel still says 1200
    tongbao.run_jobs()
    assert shop.payment(created["id"])["status"] == "pending"
    closing = error_of(shop.client.post(f"/v1/payments/{created['id']}/close"), 409)
    assert closing["code"] == "payment_under_review"
    assert events_of(shop, created["id"]) == []
    # Once the case is dismissed (e.g. settled with the payer by phone), the payment may close.
    ok(decide(admin, case["id"], "dismiss", "settled with the payer directly"))
    ok(shop.client.post(f"/v1/payments/{created['id']}/close"))
    assert shop.payment(created["id"])["status"] == "closed"
