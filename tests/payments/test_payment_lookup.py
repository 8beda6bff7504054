"""Looking payments and notifications up: each merchant sees its own and nothing of anyone else's;
operators see everything with their token; merchant answers are signed."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from tests.support.factories import create_app, error_of, ok
from tests.support.receiver import Receiver
from tests.support.stack import Stack
from tests.support.wechat import WeChatMerchant, sim_pay, wechat_merchant
from tongbao.client import ResponseSignatureInvalid, TongbaoClient


@pytest.fixture
def rival(tongbao: Stack, admin: httpx.Client, receiver: Receiver) -> Iterator[WeChatMerchant]:
    """Another merchant on WeChat Pay, notified at the same endpoint as ``shop``."""
    made = wechat_merchant(tongbao, admin, notify_url=receiver.url)
    yield made
    made.client.close()


def paid(tongbao: Stack, merchant: WeChatMerchant, **fields: Any) -> dict[str, Any]:
    created = ok(merchant.create_payment(**fields), 201)
    sim_pay(tongbao, code_url=created["action"]["code_url"])
    tongbao.wechatpay_wait()
    payment = merchant.payment(created["id"])
    assert payment["status"] == "succeeded"
    return payment


def events(merchant: WeChatMerchant, **params: str) -> list[dict[str, Any]]:
    return ok(merchant.client.get("/v1/notifications", params=params))["data"]  # type: ignore[no-any-return]


def test_another_merchants_payment_is_not_found_and_nothing_of_it_is_revealed(
    shop: WeChatMerchant, rival: WeChatMerchant
) -> None:
    created = ok(shop.create_payment(out_trade_no="secret-order-77", amount=4321, subject="Oolong"), 201)
    for path in (f"/v1/payments/{created['id']}", "/v1/payments/pay_00000000000000000000000000"):
        response = rival.client.get(path)
        error = error_of(response, 404)
        assert (error["code"], error["param"]) == ("payment_not_found", "payment_id"), path
        for secret in ("secret-order-77", "4321", "Oolong", shop.merchant_id, shop.app_id):
            assert secret not in response.text
    unknown = error_of(shop.client.get("/v1/payments/pay_00000000000000000000000000"), 404)
    assert unknown["code"] == "payment_not_found"
    lookup = error_of(rival.client.get("/v1/payments", params={"out_trade_no": "secret-order-77"}), 404)
    assert lookup["code"] == "payment_not_found"
    assert shop.payment(created["id"])["out_trade_no"] == "secret-order-77"


def test_an_out_trade_no_finds_the_callers_own_payment_only(
    admin: httpx.Client,
    shop: WeChatMerchant,
    rival: WeChatMerchant,
    make_client: Callable[..., TongbaoClient],
) -> None:
    mine = ok(shop.create_payment(out_trade_no="table-7", amount=100), 201)
    theirs = ok(rival.create_payment(out_trade_no="table-7", amount=200), 201)
    second_app = create_app(admin, shop.merchant_id)
    sibling = make_client(second_app["id"], second_app["secret"])
    body = {"out_trade_no": "table-7", "amount": 300, "subject": "Latte", "method": "wechat_native"}
    from_sibling = ok(sibling.post("/v1/payments", json=body), 201)
    assert len({mine["id"], theirs["id"], from_sibling["id"]}) == 3

    for client, expected in ((shop.client, mine), (rival.client, theirs), (sibling, from_sibling)):
        found = ok(client.get("/v1/payments", params={"out_trade_no": "table-7"}))
        assert (found["id"], found["amount"]) == (expected["id"], expected["amount"])
        assert found == client.get(f"/v1/payments/{expected['id']}").json()
    for bad in ("", "x" * 65):
        assert shop.client.get("/v1/payments", params={"out_trade_no": bad}).status_code == 400


def test_operators_see_any_payment_with_their_token_only(
    tongbao: Stack, admin: httpx.Client, anonymous: httpx.Client, shop: WeChatMerchant
) -> None:
    created = ok(shop.create_payment(), 201)
    seen = ok(admin.get(f"/admin/v1/payments/{created['id']}"))
    assert seen == shop.payment(created["id"])
    missing = error_of(admin.get("/admin/v1/payments/pay_00000000000000000000000000"), 404)
    assert missing["code"] == "payment_not_found"

    for headers in ({}, {"Authorization": "Bearer tbo_not-the-operator-token-0123456789"}):
        response = anonymous.get(f"/admin/v1/payments/{created['id']}", headers=headers)
        assert error_of(response, 401)["code"]
        assert created["id"] not in response.text
    # A merchant's signature is not an operator's token.
    signed = shop.client.sign("GET", f"/admin/v1/payments/{created['id']}", b"")
    assert anonymous.get(f"/admin/v1/payments/{created['id']}", headers=signed).status_code == 401


def test_merchant_answers_are_signed_and_a_changed_answer_does_not_verify(shop: WeChatMerchant) -> None:
    created = shop.create_payment()
    answers = [
        created,
        shop.client.get(f"/v1/payments/{created.json()['id']}"),
        shop.client.get("/v1/payments", params={"out_trade_no": created.json()["out_trade_no"]}),
        shop.client.get("/v1/payments/pay_00000000000000000000000000"),
        shop.client.post("/v1/payments", json={"amount": 0}),
        shop.client.get("/v1/notifications"),
    ]
    assert [a.status_code for a in answers] == [201, 200, 200, 404, 400, 200]
    for answer in answers:
        shop.client.verify_response(answer)
        changed = httpx.Response(answer.status_code, headers=answer.headers, content=answer.content + b" ")
        with pytest.raises(ResponseSignatureInvalid):
            shop.client.verify_response(changed)


def test_notifications_list_only_the_callers_events_and_others_cannot_be_resent(
    tongbao: Stack, shop: WeChatMerchant, rival: WeChatMerchant, receiver: Receiver
) -> None:
    mine, theirs = paid(tongbao, shop), paid(tongbao, rival)
    [my_event] = events(shop)
    [their_event] = events(rival)
    assert (my_event["payment_id"], my_event["type"]) == (mine["id"], "payment.succeeded")
    assert (their_event["payment_id"], their_event["type"]) == (theirs["id"], "payment.succeeded")
    assert events(shop, payment_id=theirs["id"]) == []

    for path in (f"/v1/notifications/{their_event['id']}", f"/v1/notifications/{their_event['id']}/resend"):
        call = shop.client.get if not path.endswith("resend") else shop.client.post
        response = call(path)
        assert error_of(response, 404)["code"] == "notification_not_found", path
        assert theirs["id"] not in response.text
    assert receiver.received == []  # nothing was sent for the refused resend
    assert events(rival)[0]["deliveries"] == []

    resent = ok(shop.client.post(f"/v1/notifications/{my_event['id']}/resend"))
    assert resent["deliveries"][-1]["trigger"] == "resend"
    [arrived] = receiver.wait_for(1)
    assert shop.client.verify_notification(arrived.headers, arrived.body)["data"]["id"] == mine["id"]
