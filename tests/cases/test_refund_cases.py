"""Cases about refunds, decided end to end: a refund reported with another amount, one the channel
reports succeeded after it had failed, one the janitor gave up on. Each decision ends with the money
accounted for: the refund final (succeeded or failed) and the payment's amounts agreeing with it."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.refunds.callback_scene import RefundScene, scene_fixture  # noqa: F401  (registers by import)
from tests.refunds.support import event_types, paid, refund
from tests.support.cases import cases_of, decide
from tests.support.factories import error_of, ok
from tests.support.stack import ADMIN_NAME, Stack
from tests.support.wechat import WeChatMerchant, sim_faults
from tests.support.wechat_callbacks import send

LOST_REFUND_CALLBACKS = {"endpoint": "refund_callback", "kind": "lost", "rate": 1.0}
ANOTHER_AMOUNT = {"total": 1000, "refund": 101, "payer_total": 1000, "payer_refund": 101}


def _refund(scene: RefundScene) -> dict[str, Any]:
    return ok(scene.shop.client.get(f"/v1/refunds/{scene.refund_id}"))  # type: ignore[no-any-return]


def _mismatched(scene: RefundScene) -> dict[str, Any]:
    assert send(scene.tongbao, scene.genuine_refund(amount=ANOTHER_AMOUNT), "/refunds").status_code == 204
    [case] = cases_of(scene.admin, scene.payment["id"])
    assert (case["kind"], case["status"]) == ("refund_mismatch", "open")
    return case


def test_an_operator_confirms_a_mismatched_refund_went_back_and_the_payment_counts_it(
    scene: RefundScene,
) -> None:
    case = _mismatched(scene)
    decided = ok(decide(scene.admin, case["id"], "mark_refunded", "the statement shows 1.00 returned"))
    assert (decided["status"], decided["resolution"]) == ("resolved", "refunded")
    assert [(h["action"], h["actor"]) for h in decided["history"]] == [("mark_refunded", ADMIN_NAME)]
    assert _refund(scene)["status"] == "succeeded"
    payment = scene.shop.payment(scene.payment["id"])
    assert (payment["status"], payment["refunded_amount"], payment["refundable_amount"]) == (
        "refunded_partially",
        100,
        900,
    )
    scene.tongbao.run_jobs()
    assert event_types(scene.shop, scene.payment["id"]) == ["payment.succeeded", "refund.succeeded"]
    assert error_of(decide(scene.admin, case["id"], "mark_failed"), 409)["code"] == "case_closed"


def test_an_operator_confirms_a_mismatched_refund_never_went_back_and_its_amount_is_freed(
    scene: RefundScene,
) -> None:
    case = _mismatched(scene)
    assert refund(scene.shop, scene.payment["id"], 901).status_code == 409  # 100 still reserved
    decided = ok(decide(scene.admin, case["id"], "mark_failed", "the channel's statement has no such refund"))
    assert (decided["status"], decided["resolution"]) == ("resolved", "failed")
    assert _refund(scene)["status"] == "failed"
    payment = scene.shop.payment(scene.payment["id"])
    assert (payment["status"], payment["refunded_amount"], payment["refundable_amount"]) == (
        "succeeded",
        0,
        1000,
    )
    scene.tongbao.run_jobs()
    assert event_types(scene.shop, scene.payment["id"]) == ["payment.succeeded", "refund.failed"]
    ok(refund(scene.shop, scene.payment["id"], 1000), 201)


def test_resolve_and_dismiss_of_a_refund_still_pending_say_which_decisions_settle_it(
    scene: RefundScene,
) -> None:
    case = _mismatched(scene)
    for decision in ("resolve", "dismiss"):
        refused = error_of(decide(scene.admin, case["id"], decision), 409)
        assert refused["code"] == "refund_in_progress"
        assert "mark_refunded" in refused["message"] and "mark_failed" in refused["message"]


def _failed_then_succeeded(scene: RefundScene) -> dict[str, Any]:
    abnormal = scene.genuine_refund(refund_status="ABNORMAL")
    assert send(scene.tongbao, abnormal, "/refunds").status_code == 204
    assert _refund(scene)["status"] == "failed"
    assert scene.shop.payment(scene.payment["id"])["refundable_amount"] == 1000
    # … and then the channel says the same refund succeeded after all.
    assert send(scene.tongbao, scene.genuine_refund(), "/refunds").status_code == 204
    kinds = {c["kind"]: c for c in cases_of(scene.admin, scene.payment["id"])}
    case = kinds["refund_contradicted"]
    assert (case["refund_id"], case["status"]) == (scene.refund_id, "open")
    alerts = ok(scene.admin.get("/admin/v1/alerts"))["data"]
    assert any(a["kind"] == "case.refund_contradicted" and a["subject_id"] == case["id"] for a in alerts)
    return case


def test_a_failed_refund_the_channel_later_reports_succeeded_keeps_its_amount_reserved(
    scene: RefundScene,
) -> None:
    case = _failed_then_succeeded(scene)
    assert _refund(scene)["status"] == "failed"  # the merchant was told; an operator corrects it
    payment = scene.shop.payment(scene.payment["id"])
    assert (payment["refunded_amount"], payment["refundable_amount"]) == (0, 900)
    refused = error_of(refund(scene.shop, scene.payment["id"], 1000), 409)
    assert refused["code"] == "refund_exceeds_remaining"
    decided = ok(decide(scene.admin, case["id"], "mark_refunded", "the payer's bank shows the 1.00"))
    assert (decided["status"], decided["resolution"]) == ("resolved", "refunded")
    assert _refund(scene)["status"] == "succeeded"
    payment = scene.shop.payment(scene.payment["id"])
    assert (payment["status"], payment["refunded_amount"], payment["refundable_amount"]) == (
        "refunded_partially",
        100,
        900,
    )
    scene.tongbao.run_jobs()
    assert event_types(scene.shop, scene.payment["id"]) == [
        "payment.succeeded",
        "refund.failed",
        "refund.succeeded",
    ]


def test_an_operator_finds_the_late_success_report_wrong_and_the_amount_is_freed(scene: RefundScene) -> None:
    case = _failed_then_succeeded(scene)
    ok(decide(scene.admin, case["id"], "mark_failed", "the channel's statement shows the refund failed"))
    assert _refund(scene)["status"] == "failed"
    assert scene.shop.payment(scene.payment["id"])["refundable_amount"] == 1000
    ok(refund(scene.shop, scene.payment["id"], 1000), 201)


@pytest.fixture
def few_sync_attempts(tongbao: Stack) -> Any:
    settings = tongbao.container.settings
    before = settings.refund_sync_max_attempts
    settings.refund_sync_max_attempts = 5
    yield settings.refund_sync_max_attempts
    settings.refund_sync_max_attempts = before


def test_a_refund_the_janitor_gave_up_on_is_flagged_and_an_operator_resumes_it(
    tongbao: Stack, shop: WeChatMerchant, admin: httpx.Client, few_sync_attempts: int
) -> None:
    payment = paid(tongbao, shop, amount=500)
    processing = {"endpoint": "refund", "kind": "processing", "rate": 1.0, "polls": 1000}
    sim_faults(tongbao, processing, LOST_REFUND_CALLBACKS)
    created = ok(refund(shop, payment["id"], 200), 201)
    for _ in range(few_sync_attempts + 2):
        tongbao.clock.advance(3600)
        tongbao.run_jobs()
    [case] = cases_of(admin, payment["id"])
    assert (case["kind"], case["refund_id"], case["status"]) == ("refund_overdue", created["id"], "open")
    detail = ok(admin.get(f"/admin/v1/exception-cases/{case['id']}"))
    assert [h["action"] for h in detail["history"]] == ["sync_stopped"]
    alerts = ok(admin.get("/admin/v1/alerts"))["data"]
    assert any(a["kind"] == "refund.sync_stopped" and a["subject_id"] == case["id"] for a in alerts)
    assert ok(shop.client.get(f"/v1/refunds/{created['id']}"))["status"] == "pending"
    # The channel finishes it (its callback is lost): nobody asks until an operator resumes the janitor.
    sim_faults(tongbao, LOST_REFUND_CALLBACKS)
    settle = {"refund_no": created["id"], "outcome": "success"}
    ok(httpx.post(f"{tongbao.wechatpay_url}/_control/refunds/settle", json=settle, timeout=10))
    tongbao.clock.advance(3600)
    tongbao.run_jobs()
    assert ok(shop.client.get(f"/v1/refunds/{created['id']}"))["status"] == "pending"
    resumed = ok(decide(admin, case["id"], "resume", "the channel says it is done now"))
    assert (resumed["status"], resumed["history"][-1]["action"]) == ("open", "resume")
    tongbao.run_jobs()
    assert ok(shop.client.get(f"/v1/refunds/{created['id']}"))["status"] == "succeeded"
    settled = ok(admin.get(f"/admin/v1/exception-cases/{case['id']}"))
    assert (settled["status"], settled["resolution"]) == ("resolved", "succeeded")
