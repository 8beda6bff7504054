"""WeChat Pay callbacks: forged, stale, undecryptable or misaddressed ones are refused and change
nothing; a genuine one is applied once; a wrong amount becomes an exception case, not a success."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from tests.support.factories import ok
from tests.support.receiver import Receiver
from tests.support.stack import Stack
from tests.support.wechat import WeChatMerchant
from tests.support.wechat_callbacks import Callback, Scene, send, stranger_key
from tongbao.channels.wechatpay import protocol


@pytest.fixture
def scene(tongbao: Stack, admin: httpx.Client, shop: WeChatMerchant) -> Scene:
    payment = ok(shop.create_payment(amount=1234), 201)
    assert payment["status"] == "pending"
    return Scene(tongbao, admin, shop, payment)


def events_of(scene: Scene) -> list[dict[str, Any]]:
    answer = ok(scene.shop.client.get("/v1/notifications", params={"payment_id": scene.payment["id"]}))
    return answer["data"]  # type: ignore[no-any-return]


def cases_of(scene: Scene) -> list[dict[str, Any]]:
    answer = ok(scene.admin.get("/admin/v1/exception-cases", params={"payment_id": scene.payment["id"]}))
    return answer["data"]  # type: ignore[no-any-return]


def assert_unchanged(scene: Scene) -> None:
    payment = scene.shop.payment(scene.payment["id"])
    assert payment["status"] == "pending"
    assert payment["channel_trade_no"] is None
    assert [a["status"] for a in payment["attempts"]] == ["pending"]
    assert events_of(scene) == []
    assert cases_of(scene) == []


def without(callback: Callback, *names: str) -> Callback:
    callback.headers = {k: v for k, v in callback.headers.items() if k not in names}
    return callback


def tampered(callback: Callback) -> Callback:
    callback.body = callback.body.replace("支付成功".encode(), "支付失败".encode())
    return callback


def misaddressed(scene: Scene) -> Callback:
    """Encrypted for this shop, sent to another merchant's channel account."""
    return scene.signed(scene.envelope(scene.transaction()), account_id=scene.other_merchant().account_id)


def from_another_account(scene: Scene) -> Callback:
    """A genuine callback of another merchant's account that names this shop's order."""
    other = scene.other_merchant()
    body = scene.envelope(scene.transaction(other), scene.apiv3_key(other))
    return scene.signed(body, account_id=other.account_id)


def stranger_signed(s: Scene) -> Callback:
    return s.signed(s.envelope(s.transaction()), key=stranger_key())


def unsigned(s: Scene) -> Callback:
    callback = s.genuine()
    return without(callback, *(name for name in callback.headers if name.startswith("Wechatpay")))


# group -> {case: how to build it}; each case is refused with 400 {"code": "FAIL"}
REFUSED: dict[str, dict[str, Callable[[Scene], Callback]]] = {
    "forged": {
        "signed-by-a-stranger": stranger_signed,
        "unknown-serial": lambda s: s.signed(s.envelope(s.transaction()), serial="PUB_KEY_ID_0100000000"),
        "no-signature-headers": unsigned,
        "no-signature": lambda s: without(s.genuine(), protocol.HEADER_SIGNATURE),
        "body-changed-after-signing": lambda s: tampered(s.genuine()),
    },
    "stale": {
        "ten-minutes-old": lambda s: s.signed(s.envelope(s.transaction()), age_s=600),
        "ten-minutes-ahead": lambda s: s.signed(s.envelope(s.transaction()), age_s=-600),
    },
    "unreadable": {
        "wrong-apiv3-key": lambda s: s.signed(s.envelope(s.transaction(), secrets.token_hex(16).encode())),
        "garbage-json": lambda s: s.signed(b'{"resource": {"ciphertext": '),
        "json-not-an-object": lambda s: s.signed(b"[1, 2, 3]"),
        "resource-not-an-object": lambda s: s.signed(b'{"resource": "abc"}'),
    },
    "not-this-shops-order": {
        "another-merchants-mchid": lambda s: s.signed(s.envelope(s.transaction(mchid="1999999999"))),
        "unknown-out-trade-no": lambda s: s.genuine(out_trade_no="att_00000000000000000000000000"),
        "sent-to-another-account": misaddressed,
        "another-accounts-callback-for-this-order": from_another_account,
    },
}


@pytest.mark.parametrize("group", list(REFUSED))
def test_a_callback_that_cannot_be_trusted_is_refused_and_changes_nothing(
    scene: Scene, receiver: Receiver, group: str
) -> None:
    for case, make in REFUSED[group].items():
        response = send(scene.tongbao, make(scene))
        assert response.status_code == 400, (case, response.text)
        assert response.json()["code"] == "FAIL", case
        assert response.json()["message"], case
        assert_unchanged(scene)
    scene.tongbao.run_jobs()
    assert receiver.received == []


def test_a_callback_for_an_unknown_account_or_channel_is_not_found(scene: Scene) -> None:
    genuine = scene.genuine()
    for account_id, channel in (
        ("cha_00000000000000000000000000", "wechatpay"),
        (genuine.account_id, "alipay"),
    ):
        response = send(scene.tongbao, Callback(account_id, genuine.body, genuine.headers, channel))
        assert response.status_code == 404, (account_id, channel)
    assert_unchanged(scene)


def test_a_genuine_callback_succeeds_the_payment_once(scene: Scene, receiver: Receiver) -> None:
    transaction = scene.transaction()
    callback = scene.signed(scene.envelope(transaction))
    response = send(scene.tongbao, callback)
    assert response.status_code == 204, response.text
    payment = scene.shop.payment(scene.payment["id"])
    assert payment["status"] == "succeeded"
    assert payment["channel_trade_no"] == transaction["transaction_id"]
    assert payment["attempts"][0]["status"] == "succeeded"

    assert send(scene.tongbao, callback).status_code == 204  # the very same request again
    assert send(scene.tongbao, scene.signed(scene.envelope(transaction))).status_code == 204  # re-sent
    assert scene.shop.payment(scene.payment["id"]) == payment
    assert [e["type"] for e in events_of(scene)] == ["payment.succeeded"]
    assert cases_of(scene) == []
    scene.tongbao.run_jobs()
    [arrived] = receiver.wait_for(1)
    assert scene.shop.client.verify_notification(arrived.headers, arrived.body)["type"] == "payment.succeeded"


def test_a_callback_with_another_amount_opens_one_case_and_does_not_succeed(
    scene: Scene, receiver: Receiver
) -> None:
    paid = scene.payment["amount"] - 1
    amount = {"total": paid, "payer_total": paid, "currency": "CNY", "payer_currency": "CNY"}
    transaction = scene.transaction(amount=amount)
    for _ in range(2):
        response = send(scene.tongbao, scene.signed(scene.envelope(transaction)))
        assert response.status_code == 204, response.text  # acknowledged: it is genuine, and recorded
    payment = scene.shop.payment(scene.payment["id"])
    assert payment["status"] == "pending"
    assert payment["succeeded_at"] is None
    assert events_of(scene) == []

    [case] = cases_of(scene)
    assert (case["kind"], case["status"]) == ("amount_mismatch", "open")
    assert case["attempt_id"] == scene.order_no
    assert case["evidence"]["expected"] == {"amount": 1234, "currency": "CNY"}
    assert case["evidence"]["channel_result"]["amount"]["total"] == 1233
    alerts = ok(scene.admin.get("/admin/v1/alerts"))["data"]
    assert [a["kind"] for a in alerts if a["data"].get("case_id") == case["id"]] == ["case.amount_mismatch"]
    scene.tongbao.run_jobs()
    assert receiver.received == []


def test_a_callback_for_a_payment_discounted_by_a_coupon_succeeds_it(scene: Scene) -> None:
    amount = {"total": 1234, "payer_total": 1134, "currency": "CNY", "payer_currency": "CNY"}
    coupon = [{"coupon_id": "109519", "type": "CASH", "amount": 100, "wechatpay_contribute": 100}]
    response = send(scene.tongbao, scene.genuine(amount=amount, promotion_detail=coupon))
    assert response.status_code == 204, response.text
    assert cases_of(scene) == []
    assert scene.shop.payment(scene.payment["id"])["status"] == "succeeded"


@pytest.mark.parametrize(
    "changes",
    [{"success_time": "yesterday"}, {"amount": "1234"}, {"out_trade_no": None}, {"out_trade_no": 7}],
    ids=["success_time-not-a-time", "amount-not-an-object", "out_trade_no-null", "out_trade_no-a-number"],
)
def test_a_genuine_callback_with_a_malformed_transaction_is_refused(
    scene: Scene, changes: dict[str, Any]
) -> None:
    response = send(scene.tongbao, scene.genuine(**changes))
    assert_unchanged(scene)
    assert response.status_code == 400, response.text
    assert response.json()["code"] == "FAIL"
