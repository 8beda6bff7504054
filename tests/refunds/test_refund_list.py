"""Listing refunds: ``GET /v1/refunds`` without ``out_refund_no`` pages through the calling app's
refunds newest first; ``GET /admin/v1/refunds`` pages through everyone's for operators."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from tests.refunds.support import paid, refund
from tests.support.factories import create_app, error_of, ok
from tests.support.pages import items, newest_first, one_instant, pages
from tests.support.receiver import Receiver
from tests.support.stack import Stack
from tests.support.wechat import WeChatMerchant, sim_faults, sim_pay, wechat_merchant
from tongbao.client import TongbaoClient

PATH = "/v1/refunds"
ADMIN_PATH = "/admin/v1/refunds"


@pytest.fixture
def rival(tongbao: Stack, admin: httpx.Client, receiver: Receiver) -> Iterator[WeChatMerchant]:
    made = wechat_merchant(tongbao, admin, notify_url=receiver.url)
    yield made
    made.client.close()


def _refunded(tongbao: Stack, shop: WeChatMerchant, payment_id: str, *amounts: int) -> list[dict[str, Any]]:
    made = [ok(refund(shop, payment_id, amount), 201) for amount in amounts]
    tongbao.wechatpay_wait()
    return made


def _ids(listed: list[dict[str, Any]]) -> list[str]:
    return [r["id"] for r in listed]


def test_an_app_lists_its_refunds_newest_first_as_their_get_shows_them(
    tongbao: Stack,
    admin: httpx.Client,
    shop: WeChatMerchant,
    rival: WeChatMerchant,
    make_client: Callable[..., TongbaoClient],
) -> None:
    first, second = paid(tongbao, shop), paid(tongbao, shop)
    mine = _refunded(tongbao, shop, first["id"], 100, 200) + _refunded(tongbao, shop, second["id"], 300)
    theirs = _refunded(tongbao, rival, paid(tongbao, rival)["id"], 100)
    second_app = create_app(admin, shop.merchant_id)
    sibling = make_client(second_app["id"], second_app["secret"], now=lambda: tongbao.clock.now().timestamp())
    body = {"out_trade_no": "sibling-1", "amount": 500, "subject": "Tea", "method": "wechat_native"}
    sim_pay(tongbao, code_url=ok(sibling.post("/v1/payments", json=body), 201)["action"]["code_url"])
    tongbao.wechatpay_wait()
    from_sibling = ok(
        sibling.post(PATH, json={"out_trade_no": "sibling-1", "out_refund_no": "s-1", "amount": 5}), 201
    )

    walked = pages(shop.client, PATH, limit=2)
    assert [(len(p["data"]), p["has_more"]) for p in walked] == [(2, True), (1, False)]
    listed = [r for p in walked for r in p["data"]]
    assert _ids(listed) == _ids(reversed(mine))
    for item in listed:
        assert item == ok(shop.client.get(f"{PATH}/{item['id']}"))
        assert item["status"] == "succeeded"
    assert _ids(items(rival.client, PATH)) == _ids(theirs)
    assert _ids(items(sibling, PATH)) == [from_sibling["id"]]
    answer = shop.client.get(PATH)
    shop.client.verify_response(answer)
    assert theirs[0]["id"] not in answer.text and from_sibling["id"] not in answer.text

    assert _ids(items(shop.client, PATH, payment_id=first["id"])) == _ids(reversed(mine[:2]))
    assert items(shop.client, PATH, payment_id=theirs[0]["payment_id"]) == []
    # out_refund_no still answers the one refund.
    found = ok(shop.client.get(PATH, params={"out_refund_no": mine[0]["out_refund_no"]}))
    assert found == listed[-1]


def test_refunds_filter_by_status_and_creation_time(tongbao: Stack, shop: WeChatMerchant) -> None:
    payment = paid(tongbao, shop)
    tongbao.clock.advance(-600)
    [succeeded] = _refunded(tongbao, shop, payment["id"], 100)
    tongbao.clock.advance(300)
    sim_faults(tongbao, {"endpoint": "refund", "kind": "abnormal", "rate": 1.0})
    [failed] = _refunded(tongbao, shop, payment["id"], 200)
    tongbao.clock.advance(300)
    sim_faults(tongbao, {"endpoint": "refund_callback", "kind": "lost", "rate": 1.0})
    [pending] = _refunded(tongbao, shop, payment["id"], 300)

    def ids(**params: Any) -> list[str]:
        return _ids(items(shop.client, PATH, limit=1, **params))

    assert ids(status="succeeded") == [succeeded["id"]]
    assert ids(status="failed") == [failed["id"]]
    assert ids(status="pending") == [pending["id"]]
    assert ids(created_gte=failed["created_at"]) == [pending["id"], failed["id"]]
    assert ids(created_lt=failed["created_at"]) == [succeeded["id"]]
    assert ids(created_gte=failed["created_at"], status="succeeded") == []


def test_refunds_made_in_one_instant_page_without_gaps_or_repeats(
    tongbao: Stack, shop: WeChatMerchant, monkeypatch: pytest.MonkeyPatch
) -> None:
    payment = paid(tongbao, shop)
    with one_instant(tongbao, monkeypatch):
        made = [ok(refund(shop, payment["id"], 10), 201) for _ in range(4)]
    made += _refunded(tongbao, shop, payment["id"], 10)
    assert len({r["created_at"] for r in made[:4]}) == 1
    for limit in (1, 2, 3):
        assert _ids(items(shop.client, PATH, limit=limit)) == newest_first(made)


@pytest.mark.parametrize(
    ("params", "param"),
    [
        ({"limit": 0}, "limit"),
        ({"status": "refunded"}, "status"),
        ({"created_gte": "2026-13-01T00:00:00Z"}, "created_gte"),
        ({"starting_after": "rfd_01JD00000000000000000000"}, "starting_after"),
        ({"out_refund_no": ""}, "out_refund_no"),
    ],
)
def test_bad_refund_list_parameters_are_refused(
    shop: WeChatMerchant, params: dict[str, Any], param: str
) -> None:
    error = error_of(shop.client.get(PATH, params=params), 400)
    assert (error["code"], error["param"]) == ("parameter_invalid", param)


def test_operators_list_every_refund_with_filters(
    tongbao: Stack, admin: httpx.Client, anonymous: httpx.Client, shop: WeChatMerchant, rival: WeChatMerchant
) -> None:
    payment = paid(tongbao, shop)
    mine = _refunded(tongbao, shop, payment["id"], 100, 200)
    theirs = _refunded(tongbao, rival, paid(tongbao, rival)["id"], 300)

    everything = items(admin, ADMIN_PATH, limit=2)
    assert _ids(everything) == _ids(reversed(mine + theirs))
    seen = everything[-1]
    assert {k: seen[k] for k in ("kind", "merchant_id", "out_trade_no", "payment_id")} == {
        "kind": "merchant",
        "merchant_id": shop.merchant_id,
        "out_trade_no": payment["out_trade_no"],
        "payment_id": payment["id"],
    }
    merchant_view = ok(shop.client.get(f"{PATH}/{seen['id']}"))
    assert {k: v for k, v in seen.items() if k in merchant_view} == merchant_view
    assert ok(admin.get(f"{ADMIN_PATH}/{seen['id']}")) == seen
    assert (
        error_of(admin.get(f"{ADMIN_PATH}/rfd_00000000000000000000000000"), 404)["code"] == "refund_not_found"
    )

    def ids(**params: Any) -> list[str]:
        return _ids(items(admin, ADMIN_PATH, **params))

    assert ids(merchant_id=rival.merchant_id) == _ids(theirs)
    assert ids(app_id=shop.app_id) == _ids(reversed(mine))
    assert ids(payment_id=payment["id"], limit=1) == _ids(reversed(mine))
    assert ids(status="succeeded", kind="merchant") == _ids(everything)
    assert ids(status="failed") == [] and ids(kind="duplicate_capture") == []
    assert ids(created_gte=theirs[0]["created_at"]) == _ids(theirs)
    for params, param in (({"status": "lost"}, "status"), ({"limit": 101}, "limit"), ({"kind": "x"}, "kind")):
        error = error_of(admin.get(ADMIN_PATH, params=params), 400)
        assert (error["code"], error["param"]) == ("parameter_invalid", param)

    for headers in ({}, {"Authorization": "Bearer tbo_not-the-operator-token-0123456789"}):
        response = anonymous.get(ADMIN_PATH, headers=headers)
        assert error_of(response, 401)["code"]
        assert mine[0]["id"] not in response.text
    signed = shop.client.sign("GET", ADMIN_PATH, b"")
    assert anonymous.get(ADMIN_PATH, headers=signed).status_code == 401
