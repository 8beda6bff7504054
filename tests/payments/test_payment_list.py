"""Listing payments: ``GET /v1/payments`` without ``out_trade_no`` pages through the calling app's
payments newest first, each as its own GET shows it, never skipping or repeating one."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.factories import create_app, error_of, ok
from tests.support.pages import at, items, newest_first, one_instant, pages
from tests.support.receiver import Receiver
from tests.support.stack import Stack
from tests.support.wechat import WeChatMerchant, sim_pay, wechat_merchant
from tongbao.client import TongbaoClient

PATH = "/v1/payments"


@pytest.fixture
def rival(tongbao: Stack, admin: httpx.Client, receiver: Receiver) -> Iterator[WeChatMerchant]:
    made = wechat_merchant(tongbao, admin, notify_url=receiver.url)
    yield made
    made.client.close()


def _made(shop: WeChatMerchant, count: int, **fields: Any) -> list[dict[str, Any]]:
    return [ok(shop.create_payment(**fields), 201) for _ in range(count)]


def test_pages_are_newest_first_and_each_item_is_the_payment_as_its_get_shows_it(
    tongbao: Stack, shop: WeChatMerchant
) -> None:
    made = _made(shop, 5)
    paid = made[1]
    sim_pay(tongbao, code_url=paid["action"]["code_url"])
    tongbao.wechatpay_wait()

    walked = pages(shop.client, PATH, limit=2)
    assert [(len(p["data"]), p["has_more"]) for p in walked] == [(2, True), (2, True), (1, False)]
    listed = [item for page in walked for item in page["data"]]
    assert [p["id"] for p in listed] == [p["id"] for p in reversed(made)]
    for item in listed:
        assert item == ok(shop.client.get(f"{PATH}/{item['id']}"))
    assert next(p for p in listed if p["id"] == paid["id"])["status"] == "succeeded"

    # The default page holds 20; one page of everything has no cursor.
    whole = ok(shop.client.get(PATH))
    assert (len(whole["data"]), whole["has_more"], whole["next_cursor"]) == (5, False, None)
    exact = ok(shop.client.get(PATH, params={"limit": 5}))
    assert (exact["data"], exact["has_more"]) == (whole["data"], False)


def test_a_list_shows_the_calling_apps_payments_only(
    admin: httpx.Client,
    shop: WeChatMerchant,
    rival: WeChatMerchant,
    make_client: Callable[..., TongbaoClient],
) -> None:
    mine = _made(shop, 2)
    theirs = _made(rival, 1)
    second_app = create_app(admin, shop.merchant_id)
    sibling = make_client(second_app["id"], second_app["secret"])
    body = {"out_trade_no": "sibling-1", "amount": 300, "subject": "Latte", "method": "wechat_native"}
    from_sibling = ok(sibling.post(PATH, json=body), 201)

    assert [p["id"] for p in items(shop.client, PATH)] == [p["id"] for p in reversed(mine)]
    assert [p["id"] for p in items(rival.client, PATH)] == [theirs[0]["id"]]
    assert [p["id"] for p in items(sibling, PATH)] == [from_sibling["id"]]
    listed = shop.client.get(PATH)
    shop.client.verify_response(listed)
    for secret in (theirs[0]["id"], from_sibling["id"], "sibling-1"):
        assert secret not in listed.text


def test_payments_made_in_one_instant_are_ordered_by_id_and_none_is_skipped_or_repeated(
    tongbao: Stack, shop: WeChatMerchant, monkeypatch: pytest.MonkeyPatch
) -> None:
    with one_instant(tongbao, monkeypatch):
        tied = _made(shop, 5)
    assert len({p["created_at"] for p in tied}) == 1
    # Made later but dated earlier (the clock was set back): the creation time orders, not the id.
    tongbao.clock.advance(-3600)
    older = _made(shop, 1)[0]

    for limit in (1, 2, 3, 6):
        listed = items(shop.client, PATH, limit=limit)
        assert [p["id"] for p in listed] == sorted((p["id"] for p in tied), reverse=True) + [older["id"]]


def test_filters_by_status_and_creation_time(tongbao: Stack, shop: WeChatMerchant) -> None:
    tongbao.clock.advance(-7200)
    early = _made(shop, 1)[0]
    tongbao.clock.advance(3600)
    middle = _made(shop, 2)
    tongbao.clock.advance(3600)
    late = _made(shop, 1)[0]
    sim_pay(tongbao, code_url=middle[0]["action"]["code_url"])
    tongbao.wechatpay_wait()

    def ids(**params: Any) -> list[str]:
        return [p["id"] for p in items(shop.client, PATH, limit=1, **params)]

    assert ids(status="succeeded") == [middle[0]["id"]]
    assert ids(status="pending") == [late["id"], middle[1]["id"], early["id"]]
    assert ids(status="closed") == []
    start, end = middle[0]["created_at"], late["created_at"]
    assert ids(created_gte=start, created_lt=end) == [middle[1]["id"], middle[0]["id"]]
    assert ids(created_gte=end) == [late["id"]]
    assert ids(created_lt=start) == [early["id"]]
    in_beijing = (at(start) + timedelta(hours=8)).isoformat().replace("+00:00", "+08:00")
    assert in_beijing.endswith("+08:00")
    assert ids(created_gte=in_beijing, status="pending") == [late["id"], middle[1]["id"]]


@pytest.mark.parametrize(
    ("params", "param"),
    [
        ({"limit": 0}, "limit"),
        ({"limit": 101}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"status": "paid"}, "status"),
        ({"created_gte": "yesterday"}, "created_gte"),
        ({"created_lt": "2026-01-01T00:00:00"}, "created_lt"),  # no offset: which zone?
        ({"starting_after": "not-a-cursor"}, "starting_after"),
        ({"starting_after": "pay_01JD00000000000000000000"}, "starting_after"),
        ({"starting_after": "x" * 201}, "starting_after"),
        ({"out_trade_no": ""}, "out_trade_no"),
    ],
)
def test_bad_list_parameters_are_refused_naming_the_parameter(
    shop: WeChatMerchant, params: dict[str, Any], param: str
) -> None:
    _made(shop, 1)
    answer = shop.client.get(PATH, params=params)
    error = error_of(answer, 400)
    assert (error["code"], error["param"]) == ("parameter_invalid", param)
    shop.client.verify_response(answer)


def test_out_trade_no_still_answers_the_one_payment(shop: WeChatMerchant) -> None:
    first, second = _made(shop, 2)
    found = ok(shop.client.get(PATH, params={"out_trade_no": first["out_trade_no"]}))
    assert found == ok(shop.client.get(f"{PATH}/{first['id']}"))
    missing = error_of(shop.client.get(PATH, params={"out_trade_no": "no-such-order"}), 404)
    assert (missing["code"], missing["param"]) == ("payment_not_found", "out_trade_no")
    assert [p["id"] for p in ok(shop.client.get(PATH))["data"]] == [second["id"], first["id"]]


def test_paging_with_any_limits_yields_every_payment_once_in_order(
    tongbao: Stack, shop: WeChatMerchant, monkeypatch: pytest.MonkeyPatch
) -> None:
    made = _made(shop, 2)
    with one_instant(tongbao, monkeypatch):
        made += _made(shop, 3)
    tongbao.clock.advance(-60)
    made += _made(shop, 2)
    expected = newest_first(made)
    assert len(expected) == 7

    @settings(
        max_examples=12,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture],
    )
    @given(st.lists(st.integers(min_value=1, max_value=8), min_size=1, max_size=8))
    def walk(limits: list[int]) -> None:
        seen: list[str] = []
        cursor: str | None = None
        for step in range(len(expected) + 1):
            params: dict[str, Any] = {"limit": limits[step % len(limits)]}
            if cursor is not None:
                params["starting_after"] = cursor
            page = ok(shop.client.get(PATH, params=params))
            seen += [p["id"] for p in page["data"]]
            cursor = page["next_cursor"]
            if not page["has_more"]:
                break
        assert seen == expected

    walk()
