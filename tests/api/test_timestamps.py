"""Every instant Tongbao writes in its own API and notifications has one form: UTC with six digits of
microseconds and a Z, even when it falls on a whole second."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.refunds.support import paid, refund
from tests.support.factories import ok
from tests.support.receiver import Receiver
from tests.support.stack import Stack
from tests.support.wechat import WeChatMerchant

INSTANT = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z")


@pytest.fixture
def whole_seconds(tongbao: Stack) -> Stack:
    tongbao.clock.whole_seconds = True
    return tongbao


def instants(value: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    """Every field named ``…_at`` (or ``at``) in a JSON document, with its path."""
    if isinstance(value, dict):
        for key, item in value.items():
            here = f"{path}.{key}" if path else key
            if (key == "at" or key.endswith("_at")) and item is not None and not isinstance(item, dict):
                yield here, item
            yield from instants(item, here)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from instants(item, f"{path}.{i}")


def test_every_instant_has_one_form(
    whole_seconds: Stack, admin: httpx.Client, shop: WeChatMerchant, receiver: Receiver
) -> None:
    tongbao = whole_seconds
    payment = paid(tongbao, shop, amount=500)
    ok(refund(shop, payment["id"], 200), 201)
    tongbao.wechatpay_wait()  # the refund's callback, so that its notification is delivered below too
    tongbao.run_jobs()
    documents: dict[str, Any] = {
        "payment": shop.payment(payment["id"]),
        "notifications": ok(shop.client.get("/v1/notifications", params={"payment_id": payment["id"]})),
        "delivered": [json.loads(r.body) for r in receiver.wait_for(1)],
        "merchant": ok(admin.get(f"/admin/v1/merchants/{shop.merchant_id}")),
        "merchant_events": ok(admin.get(f"/admin/v1/merchants/{shop.merchant_id}/events")),
        "documents": ok(admin.get(f"/admin/v1/merchants/{shop.merchant_id}/documents")),
        "bindings": ok(admin.get(f"/admin/v1/merchants/{shop.merchant_id}/channels")),
        "app": ok(admin.get(f"/admin/v1/apps/{shop.app_id}")),
        "channel_account": ok(admin.get(f"/admin/v1/channel-accounts/{shop.account_id}")),
        "rotated": ok(admin.post(f"/admin/v1/apps/{shop.app_id}/rotate-secret", json={})),
    }
    found = dict(instants(documents))
    # The instants of the payment, its attempt and refund, the events and their deliveries, the
    # merchant's profile and history, the app and its secret, the account and binding.
    for expected in (
        "payment.created_at",
        "payment.attempts.0.created_at",
        "payment.succeeded_at",
        "payment.refunds.0.created_at",
        "notifications.data.0.created_at",
        "notifications.data.0.deliveries.0.attempted_at",
        "delivered.0.created_at",
        "delivered.0.data.created_at",
        "merchant.updated_at",
        "merchant_events.0.created_at",
        "documents.0.created_at",
        "bindings.0.updated_at",
        "app.created_at",
        "channel_account.updated_at",
        "rotated.previous_secret_expires_at",
    ):
        assert expected in found, (expected, sorted(found))
    wrong = {path: value for path, value in found.items() if not INSTANT.fullmatch(str(value))}
    assert wrong == {}
