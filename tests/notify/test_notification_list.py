"""Listing notifications: newest first, a page at a time, filtered; merchants see their own,
operators everyone's."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.support.factories import error_of, ok
from tests.support.pages import items, newest_first, one_instant, pages
from tests.support.receiver import Receiver
from tests.support.stack import Stack
from tests.support.wechat import WeChatMerchant, sim_pay, wechat_merchant

PATH = "/v1/notifications"
ADMIN_PATH = "/admin/v1/notifications"


@pytest.fixture
def rival(tongbao: Stack, admin: httpx.Client, receiver: Receiver) -> Iterator[WeChatMerchant]:
    made = wechat_merchant(tongbao, admin, notify_url=receiver.url)
    yield made
    made.client.close()


def _paid(tongbao: Stack, shop: WeChatMerchant, count: int = 1) -> list[str]:
    created = [ok(shop.create_payment(), 201) for _ in range(count)]
    for payment in created:
        sim_pay(tongbao, code_url=payment["action"]["code_url"])
    tongbao.wechatpay_wait()
    return [p["id"] for p in created]


def _payments(listed: list[dict[str, Any]]) -> list[str]:
    return [e["payment_id"] for e in listed]


def test_a_merchant_pages_through_its_notifications_newest_first(
    tongbao: Stack, shop: WeChatMerchant, rival: WeChatMerchant
) -> None:
    paid = [_paid(tongbao, shop)[0] for _ in range(3)]
    closed = ok(shop.create_payment(), 201)["id"]
    ok(shop.client.post(f"/v1/payments/{closed}/close"))
    _paid(tongbao, rival)

    walked = pages(shop.client, PATH, limit=3)
    assert [(len(p["data"]), p["has_more"]) for p in walked] == [(3, True), (1, False)]
    listed = [e for p in walked for e in p["data"]]
    assert _payments(listed) == [closed, *reversed(paid)]
    assert [e["type"] for e in listed] == ["payment.closed"] + ["payment.succeeded"] * 3
    for event in listed:
        assert event == ok(shop.client.get(f"{PATH}/{event['id']}"))
    assert _payments(items(shop.client, PATH, payment_id=paid[1])) == [paid[1]]
    assert len(items(rival.client, PATH)) == 1
    shop.client.verify_response(shop.client.get(PATH, params={"limit": 1}))


def test_notifications_filter_by_status_and_creation_time(
    tongbao: Stack, shop: WeChatMerchant, receiver: Receiver
) -> None:
    tongbao.clock.advance(-120)
    [first] = _paid(tongbao, shop)
    tongbao.run_jobs()  # delivered
    tongbao.clock.advance(60)
    receiver.fail_next(500)
    [second] = _paid(tongbao, shop)
    tongbao.run_jobs()  # refused once: pending, to be retried
    tongbao.clock.advance(60)
    [third] = _paid(tongbao, shop)  # not tried yet

    def payments(**params: Any) -> list[str]:
        return _payments(items(shop.client, PATH, limit=1, **params))

    assert payments(status="delivered") == [first]
    assert payments(status="pending") == [third, second]
    assert payments(status="failed") == []
    [middle] = items(shop.client, PATH, payment_id=second)
    assert payments(created_gte=middle["created_at"]) == [third, second]
    assert payments(created_lt=middle["created_at"]) == [first]


def test_notifications_of_one_instant_page_without_gaps_or_repeats(
    tongbao: Stack, shop: WeChatMerchant, monkeypatch: pytest.MonkeyPatch
) -> None:
    with one_instant(tongbao, monkeypatch):
        _paid(tongbao, shop, count=4)
    listed = items(shop.client, PATH, limit=1)
    assert len({e["created_at"] for e in listed}) == 1 and len(listed) == 4
    for limit in (2, 3):
        assert [e["id"] for e in items(shop.client, PATH, limit=limit)] == newest_first(listed)


def test_operators_list_everyones_notifications(
    tongbao: Stack, admin: httpx.Client, shop: WeChatMerchant, rival: WeChatMerchant
) -> None:
    mine, theirs = _paid(tongbao, shop)[0], _paid(tongbao, rival)[0]
    assert _payments(items(admin, ADMIN_PATH, limit=1)) == [theirs, mine]
    assert _payments(items(admin, ADMIN_PATH, merchant_id=shop.merchant_id)) == [mine]
    assert _payments(items(admin, ADMIN_PATH, app_id=rival.app_id)) == [theirs]
    assert _payments(items(admin, ADMIN_PATH, status="pending", payment_id=mine)) == [mine]
    error = error_of(admin.get(ADMIN_PATH, params={"status": "sent"}), 400)
    assert (error["code"], error["param"]) == ("parameter_invalid", "status")


@pytest.mark.parametrize(
    ("params", "param"),
    [
        ({"limit": 500}, "limit"),
        ({"status": "sent"}, "status"),
        ({"created_lt": "soon"}, "created_lt"),
        ({"starting_after": "evt_01JD00000000000000000000"}, "starting_after"),
        ({"payment_id": "p" * 41}, "payment_id"),
    ],
)
def test_bad_notification_list_parameters_are_refused(
    shop: WeChatMerchant, params: dict[str, Any], param: str
) -> None:
    error = error_of(shop.client.get(PATH, params=params), 400)
    assert (error["code"], error["param"]) == ("parameter_invalid", param)
