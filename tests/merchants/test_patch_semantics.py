"""PATCH on merchants and channel accounts: a field left out stays, an explicit null clears an optional
field and is refused for a required one, and a PATCH that changes nothing does not touch
``updated_at``."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import httpx
import pytest

from ..support.factories import channel_account_body, create_app, create_merchant, error_of, ok
from ..support.stack import Stack

MERCHANTS = "/admin/v1/merchants"
ACCOUNTS = "/admin/v1/channel-accounts"

CONTACT = {
    "business_license_no": "91110000600037341L",
    "contact_name": "Li Wei",
    "contact_email": "liwei@harbour.example",
    "contact_phone": "+86 138-0000-0000",
}


def _when(value: str) -> datetime:
    return datetime.fromisoformat(value)


@pytest.mark.parametrize("field", sorted(CONTACT))
def test_null_clears_an_optional_merchant_field(tongbao: Stack, admin: httpx.Client, field: str) -> None:
    merchant = create_merchant(admin, **CONTACT)
    tongbao.clock.advance(60)
    cleared = ok(admin.patch(f"{MERCHANTS}/{merchant['id']}", json={field: None}))
    assert cleared == {**merchant, field: None, "updated_at": cleared["updated_at"]}
    assert _when(cleared["updated_at"]) > _when(merchant["updated_at"])
    assert ok(admin.get(f"{MERCHANTS}/{merchant['id']}")) == cleared


@pytest.mark.parametrize("field", ["name", "legal_name"])
def test_null_is_refused_for_a_required_merchant_field(
    tongbao: Stack, admin: httpx.Client, field: str
) -> None:
    merchant = create_merchant(admin, **CONTACT)
    tongbao.clock.advance(60)
    refused = admin.patch(f"{MERCHANTS}/{merchant['id']}", json={field: None, "contact_name": "Zhang San"})
    error = error_of(refused, 400)
    assert (error["code"], error["param"]) == ("parameter_invalid", field)
    assert error["message"] == f"{field} is required and cannot be null"
    assert ok(admin.get(f"{MERCHANTS}/{merchant['id']}")) == merchant


@pytest.mark.parametrize(
    "body",
    [{}, {"contact_name": "Li Wei"}, {"name": "<same>", "contact_email": "liwei@harbour.example"}],
    ids=["empty", "same-value", "same-name-and-value"],
)
def test_a_merchant_patch_that_changes_nothing_keeps_updated_at(
    tongbao: Stack, admin: httpx.Client, body: dict[str, Any]
) -> None:
    merchant = create_merchant(admin, **CONTACT)
    body = {k: merchant["name"] if v == "<same>" else v for k, v in body.items()}
    tongbao.clock.advance(60)
    assert ok(admin.patch(f"{MERCHANTS}/{merchant['id']}", json=body)) == merchant
    assert ok(admin.get(f"{MERCHANTS}/{merchant['id']}")) == merchant


def test_a_merchant_field_already_empty_can_be_nulled_without_a_change(
    tongbao: Stack, admin: httpx.Client
) -> None:
    merchant = create_merchant(admin)
    tongbao.clock.advance(60)
    assert ok(admin.patch(f"{MERCHANTS}/{merchant['id']}", json={"contact_phone": None})) == merchant


def _account(admin: httpx.Client) -> dict[str, Any]:
    return ok(admin.post(ACCOUNTS, json=channel_account_body("wechatpay")), 201)  # type: ignore[no-any-return]


@pytest.mark.parametrize("field", ["name", "base_url", "config", "enabled"])
def test_null_is_refused_for_every_channel_account_field(
    tongbao: Stack, admin: httpx.Client, field: str
) -> None:
    account = _account(admin)
    tongbao.clock.advance(60)
    refused = admin.patch(f"{ACCOUNTS}/{account['id']}", json={"name": "Renamed", field: None})
    error = error_of(refused, 400)
    assert (error["code"], error["param"]) == ("parameter_invalid", field)
    assert error["message"] == f"{field} is required and cannot be null"
    assert ok(admin.get(f"{ACCOUNTS}/{account['id']}")) == account


def test_a_channel_account_patch_that_changes_nothing_keeps_updated_at(
    tongbao: Stack, admin: httpx.Client
) -> None:
    account = _account(admin)
    tongbao.clock.advance(60)
    same = {k: account[k] for k in ("name", "base_url", "config", "enabled")}
    for body in ({}, same, {"base_url": account["base_url"] + "/"}):
        assert ok(admin.patch(f"{ACCOUNTS}/{account['id']}", json=body)) == account
    assert ok(admin.get(f"{ACCOUNTS}/{account['id']}")) == account
    changed = ok(admin.patch(f"{ACCOUNTS}/{account['id']}", json={**same, "enabled": False}))
    assert changed == {**account, "enabled": False, "updated_at": changed["updated_at"]}
    assert _when(changed["updated_at"]) > _when(account["updated_at"])


def test_an_app_patch_that_changes_nothing_keeps_updated_at(tongbao: Stack, admin: httpx.Client) -> None:
    app = create_app(admin, create_merchant(admin)["id"], notify_url="https://shop.example/tongbao")
    del app["secret"], app["previous_secret_expires_at"]
    tongbao.clock.advance(60)
    same = {k: app[k] for k in ("name", "notify_url", "ip_allowlist", "rsa_public_key_pem")}
    assert ok(admin.patch(f"/admin/v1/apps/{app['id']}", json=same)) == app
    cleared = ok(admin.patch(f"/admin/v1/apps/{app['id']}", json={"notify_url": None}))
    assert _when(cleared["updated_at"]) > _when(app["updated_at"])
