"""WeChat Pay refund callbacks: forged, stale, unreadable or misaddressed ones are refused and change
nothing; a genuine one naming a refund we never asked for is refused; a genuine one reporting another
amount is not believed over ours and becomes an exception case."""

from __future__ import annotations

import secrets
from collections.abc import Callable

import pytest

from tests.refunds.callback_scene import RefundScene, scene_fixture  # noqa: F401  (registers by import)
from tests.refunds.support import event_types, refund
from tests.support.factories import ok
from tests.support.wechat_callbacks import Callback, send, stranger_key
from tongbao.channels.wechatpay import protocol


def _unchanged(scene: RefundScene) -> None:
    assert ok(scene.shop.client.get(f"/v1/refunds/{scene.refund_id}"))["status"] == "pending"
    payment = scene.shop.payment(scene.payment["id"])
    assert (payment["status"], payment["refunded_amount"]) == ("succeeded", 0)
    scene.tongbao.run_jobs()
    assert event_types(scene.shop, scene.payment["id"]) == ["payment.succeeded"]
    cases = ok(scene.admin.get("/admin/v1/exception-cases", params={"payment_id": scene.payment["id"]}))
    assert cases["data"] == []


def _unsigned(callback: Callback) -> Callback:
    del callback.headers[protocol.HEADER_SIGNATURE]
    return callback


REFUSED: dict[str, Callable[[RefundScene], Callback]] = {
    "signed-by-a-stranger": lambda s: s.signed(s.refund_envelope(), key=stranger_key()),
    "unknown-serial": lambda s: s.signed(s.refund_envelope(), serial="PUB_KEY_ID_0100000000"),
    "no-signature": lambda s: _unsigned(s.genuine_refund()),
    "ten-minutes-old": lambda s: s.signed(s.refund_envelope(), age_s=600),
    "wrong-apiv3-key": lambda s: s.signed(s.refund_envelope(secrets.token_hex(16).encode())),
    "another-merchants-account": lambda s: s.signed(
        s.refund_envelope(), account_id=s.other_merchant().account_id
    ),
    "a-refund-never-asked-for": lambda s: s.genuine_refund(out_refund_no="rfd_00000000000000000000000000"),
    "a-payment-event-at-the-refund-door": lambda s: s.signed(s.envelope(s.transaction())),
}


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_a_refund_callback_that_cannot_be_believed_is_refused_and_changes_nothing(
    scene: RefundScene, case: str
) -> None:
    response = send(scene.tongbao, REFUSED[case](scene), "/refunds")
    assert response.status_code == 400, response.text
    assert response.json()["code"] == "FAIL"
    _unchanged(scene)


def test_a_genuine_refund_callback_is_applied_once(scene: RefundScene) -> None:
    callback = scene.genuine_refund()
    for _ in range(3):
        assert send(scene.tongbao, callback, "/refunds").status_code == 204
    assert ok(scene.shop.client.get(f"/v1/refunds/{scene.refund_id}"))["status"] == "succeeded"
    assert scene.shop.payment(scene.payment["id"])["refunded_amount"] == 100
    scene.tongbao.run_jobs()
    assert event_types(scene.shop, scene.payment["id"]) == ["payment.succeeded", "refund.succeeded"]


def test_a_refund_reported_with_another_amount_stays_pending_with_an_open_case(scene: RefundScene) -> None:
    amounts = {"total": 1000, "refund": 101, "payer_total": 1000, "payer_refund": 101}
    assert send(scene.tongbao, scene.genuine_refund(amount=amounts), "/refunds").status_code == 204
    assert ok(scene.shop.client.get(f"/v1/refunds/{scene.refund_id}"))["status"] == "pending"
    assert scene.shop.payment(scene.payment["id"])["refunded_amount"] == 0
    [case] = ok(scene.admin.get("/admin/v1/exception-cases", params={"payment_id": scene.payment["id"]}))[
        "data"
    ]
    assert (case["kind"], case["refund_id"], case["status"]) == ("refund_mismatch", scene.refund_id, "open")
    assert case["evidence"]["expected"] == {"amount": 100}
    assert case["evidence"]["reported"] == {"amount": 101}
    # The 100 stays reserved: no more than 900 can be refunded meanwhile.
    assert refund(scene.shop, scene.payment["id"], 901).status_code == 409
