"""Which channel account serves a payment: the merchant's own first, limits respected."""

from __future__ import annotations

import secrets
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from tests.support.factories import error_of, ok
from tests.support.stack import Stack
from tests.support.wechat import WeChatMerchant, register_at_simulator
from tongbao.security import samples


def own_account(tongbao: Stack, admin: httpx.Client, shop: WeChatMerchant, **limits: Any) -> str:
    key = samples.new_rsa_key()
    mchid, serial, apiv3 = (
        f"1999{secrets.randbelow(10**6):06d}",
        secrets.token_hex(20).upper(),
        secrets.token_hex(16),
    )
    platform = register_at_simulator(tongbao, mchid, shop.appid, serial, samples.public_pem(key), apiv3)
    body = {
        "name": f"Own WeChat Pay {mchid}",
        "channel": "wechatpay",
        "mode": "own",
        "merchant_id": shop.merchant_id,
        "base_url": tongbao.wechatpay_url,
        "config": {
            "mchid": mchid,
            "appid": shop.appid,
            "merchant_serial_no": serial,
            "platform_public_key_id": platform["platform_public_key_id"],
            "platform_public_key_pem": platform["platform_public_key_pem"],
        },
        "credentials": {"private_key_pem": samples.private_pem(key), "apiv3_key": apiv3},
    }
    account_id: str = ok(admin.post("/admin/v1/channel-accounts", json=body), 201)["id"]
    if limits:
        ok(admin.put(f"/admin/v1/channel-accounts/{account_id}/limits", json=limits))
    return account_id


def served_by(shop: WeChatMerchant, amount: int) -> tuple[str, str]:
    attempt = ok(shop.create_payment(amount=amount), 201)["attempts"][0]
    return attempt["channel_account_id"], attempt["account_mode"]


def test_the_merchants_own_account_is_preferred_to_the_shared_one(
    tongbao: Stack, admin: httpx.Client, shop: WeChatMerchant
) -> None:
    assert served_by(shop, 100) == (shop.account_id, "shared")
    own = own_account(tongbao, admin, shop)
    assert served_by(shop, 100) == (own, "own")
    ok(admin.patch(f"/admin/v1/channel-accounts/{own}", json={"enabled": False}))
    assert served_by(shop, 100) == (shop.account_id, "shared")


def test_a_payment_over_the_own_accounts_single_limit_goes_to_the_shared_one(
    tongbao: Stack, admin: httpx.Client, shop: WeChatMerchant
) -> None:
    own = own_account(tongbao, admin, shop, single_max_amount=1000)
    assert served_by(shop, 1000) == (own, "own")
    assert served_by(shop, 1001) == (shop.account_id, "shared")


def today_at(hour: int, minute: int, second: int) -> datetime:
    """A moment of today in UTC, near the real time the simulators' keys were made at."""
    return datetime.now(UTC).replace(hour=hour, minute=minute, second=second, microsecond=0)


# Noon in Beijing, and its last second (Beijing is UTC+8, so its midnight is 16:00 UTC).
MIDDAY, LAST_SECOND = (4, 0, 0), (15, 59, 59)


@pytest.mark.parametrize("start", [MIDDAY, LAST_SECOND], ids=["midday", "last-second-of-the-day"])
def test_the_daily_limit_counts_pending_and_succeeded_payments_of_the_day(
    tongbao: Stack, admin: httpx.Client, shop: WeChatMerchant, start: tuple[int, int, int]
) -> None:
    # Stopped, so that a slow run cannot step over midnight between two payments of "one day".
    tongbao.clock.stop(at=today_at(*start))
    own = own_account(tongbao, admin, shop, daily_max_amount=3000)
    assert served_by(shop, 1500) == (own, "own")
    assert served_by(shop, 1500) == (own, "own")
    assert served_by(shop, 1) == (shop.account_id, "shared")
    tongbao.clock.advance(24 * 3600)  # a new business day in Beijing
    assert served_by(shop, 1500) == (own, "own")


def test_a_full_account_has_room_again_from_midnight_in_beijing(
    tongbao: Stack, admin: httpx.Client, shop: WeChatMerchant
) -> None:
    tongbao.clock.stop(at=today_at(*LAST_SECOND))
    own = own_account(tongbao, admin, shop, daily_max_amount=3000)
    assert served_by(shop, 3000) == (own, "own")
    assert served_by(shop, 1) == (shop.account_id, "shared")
    tongbao.clock.advance(1)  # 00:00:00 in Beijing: yesterday's payments count no more
    assert served_by(shop, 3000) == (own, "own")
    assert served_by(shop, 1) == (shop.account_id, "shared")


@pytest.mark.parametrize("limits", [{"single_max_amount": 500}, {"daily_max_amount": 500}])
def test_no_account_with_room_is_a_clear_error_and_nothing_is_created(
    admin: httpx.Client, shop: WeChatMerchant, limits: dict[str, int]
) -> None:
    ok(admin.put(f"/admin/v1/channel-accounts/{shop.account_id}/limits", json=limits))
    response = shop.create_payment(amount=501, out_trade_no="over-the-limit")
    error = error_of(response, 400)
    assert (error["code"], error["param"]) == ("channel_limit_exceeded", "amount")
    assert error_of(shop.client.get("/v1/payments", params={"out_trade_no": "over-the-limit"}), 404)


@pytest.mark.parametrize("value", [0, -1, 1.5, "100", True])
def test_limits_must_be_positive_integers(admin: httpx.Client, shop: WeChatMerchant, value: object) -> None:
    response = admin.put(
        f"/admin/v1/channel-accounts/{shop.account_id}/limits", json={"daily_max_amount": value}
    )
    assert error_of(response, 400)["param"] == "daily_max_amount"
    account = ok(admin.get(f"/admin/v1/channel-accounts/{shop.account_id}"))
    assert account["daily_max_amount"] is None


def test_concurrent_payments_never_take_an_account_over_its_daily_limit(
    tongbao: Stack, admin: httpx.Client, shop: WeChatMerchant
) -> None:
    tongbao.clock.stop(at=today_at(*LAST_SECOND))  # ten payments of one day, however long they take
    own = own_account(tongbao, admin, shop, daily_max_amount=3000)
    with ThreadPoolExecutor(max_workers=10) as pool:
        served = list(pool.map(lambda _: served_by(shop, 1000), range(10)))
    assert served.count((own, "own")) == 3
    assert served.count((shop.account_id, "shared")) == 7
