"""Channel accounts and merchant bindings through the operator API: secrets in, never out."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from sqlalchemy import func, select

from tongbao.merchants.channel_service import ChannelAccountService
from tongbao.merchants.models import ChannelAccount, MerchantChannelBinding
from tongbao.security.secretbox import SecretUnreadable

from ..support.factories import (
    certificate,
    channel_account_body,
    create_merchant,
    error_of,
    ok,
    rsa_pair,
)
from ..support.stack import Stack

ACCOUNTS = "/admin/v1/channel-accounts"
CHANNELS = ("wechatpay", "alipay", "unionpay")
SECRET_FIELDS = {
    "wechatpay": ["private_key_pem", "apiv3_key"],
    "alipay": ["app_private_key_pem"],
    "unionpay": ["signing_private_key_pem", "signing_certificate_pem"],
}
DEFAULT_BASE_URLS = {
    "wechatpay": "https://api.mch.weixin.qq.com",
    "alipay": "https://openapi.alipay.com/gateway.do",
    "unionpay": "https://gateway.95516.com",
}
GARBAGE_PEM = "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"
WECHAT_CONFIG = {"mchid": "1900000999", "appid": "wx1111111111111111", "merchant_serial_no": "ABCDEF0123"}
APIV3_KEY = "fedcba9876543210fedcba9876543210"  # not the factory's
MERCHANT = "<merchant>"  # stands for a real merchant's id in the tables of bad input


# --- key material the factories do not make ---------------------------------------------------


@functools.cache
def small_rsa_private_pem() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=1024)  # noqa: S505 - meant to be refused
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


@functools.cache
def ec_private_pem() -> str:
    key = ec.generate_private_key(ec.SECP256R1())
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


@functools.cache
def encrypted_rsa_private_pem() -> str:
    key = serialization.load_pem_private_key(rsa_pair(1)[0].encode(), password=None)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"passphrase"),
    ).decode()


def other_credentials(channel: str) -> dict[str, str]:
    """Valid credentials different from what ``channel_account_body`` sends."""
    private, _ = rsa_pair(3)
    signing_key, signing_cert = certificate(3)
    return {
        "wechatpay": {"private_key_pem": private, "apiv3_key": APIV3_KEY},
        "alipay": {"app_private_key_pem": private},
        "unionpay": {"signing_private_key_pem": signing_key, "signing_certificate_pem": signing_cert},
    }[channel]


# --- helpers --------------------------------------------------------------------------------


def create(admin: httpx.Client, body: dict[str, Any]) -> dict[str, Any]:
    return ok(admin.post(ACCOUNTS, json=body), 201)  # type: ignore[no-any-return]


def account_of(
    admin: httpx.Client, channel: str, mode: str = "shared", merchant_id: str | None = None, **overrides: Any
) -> dict[str, Any]:
    return create(admin, channel_account_body(channel, mode, merchant_id, **overrides))


def accounts(admin: httpx.Client, **params: Any) -> list[dict[str, Any]]:
    return ok(admin.get(ACCOUNTS, params=params))["data"]  # type: ignore[no-any-return]


def bindings(admin: httpx.Client, merchant_id: str) -> list[dict[str, Any]]:
    return ok(admin.get(f"/admin/v1/merchants/{merchant_id}/channels"))  # type: ignore[no-any-return]


def bind(admin: httpx.Client, merchant_id: str, channel: str, account_id: str) -> httpx.Response:
    return admin.put(
        f"/admin/v1/merchants/{merchant_id}/channels/{channel}", json={"channel_account_id": account_id}
    )


def fragments(secret: str) -> list[str]:
    """Pieces of a secret that must never show: the whole value as JSON would carry it, and for a
    PEM its middle lines (for a private key the private exponent and primes, not the public
    modulus at the start, which a public key shares)."""
    pieces = [secret, json.dumps(secret)[1:-1]]
    if "-----BEGIN" in secret:
        body = [line for line in secret.strip().splitlines() if not line.startswith("-----")]
        middle = len(body) // 2
        pieces += body[middle - 2 : middle + 2]
    return pieces


def assert_hides(text: str, credentials: dict[str, str]) -> None:
    for name, secret in credentials.items():
        for piece in fragments(secret):
            assert piece not in text, f"{name} leaked"


def stored(tongbao: Stack, account_id: str) -> ChannelAccount:
    async def load() -> ChannelAccount:
        async with tongbao.container.uow() as tx:
            row = await tx.get(ChannelAccount, account_id)
            assert row is not None
            return row

    return tongbao.server.run(load())


def stored_count(tongbao: Stack) -> int:
    async def count() -> int:
        async with tongbao.container.uow() as tx:
            return int(await tx.scalar(select(func.count()).select_from(ChannelAccount)) or 0)

    return tongbao.server.run(count())


def row_state(tongbao: Stack, account_id: str) -> dict[str, Any]:
    """Every stored column of an account, ciphertext included, to compare before and after."""
    row = stored(tongbao, account_id)
    return {column.key: getattr(row, column.key) for column in ChannelAccount.__table__.columns}


def stored_bindings(tongbao: Stack) -> list[tuple[str, str, str, datetime]]:
    async def load() -> list[tuple[str, str, str, datetime]]:
        async with tongbao.container.uow() as tx:
            rows = await tx.scalars(select(MerchantChannelBinding))
            return sorted((r.merchant_id, r.channel, r.channel_account_id, r.updated_at) for r in rows)

    return tongbao.server.run(load())


def stored_credentials(tongbao: Stack, account_id: str) -> dict[str, str]:
    return ChannelAccountService(tongbao.container).credentials(stored(tongbao, account_id))


def changed(body: dict[str, Any], changes: dict[str, Any], merchant_id: str) -> dict[str, Any]:
    """``body`` with ``changes``; config and credentials merge field by field, None removes."""
    result = {**body, "config": dict(body["config"]), "credentials": dict(body["credentials"])}
    for key, value in changes.items():
        value = merchant_id if value == MERCHANT else value
        target = result
        if key.startswith(("config.", "credentials.")):
            part, _, key = key.partition(".")
            target = result[part]
        if value is None:
            target.pop(key, None)
        else:
            target[key] = value
    return result


def by_id(*items: dict[str, Any]) -> list[dict[str, Any]]:
    """How lists are ordered: by id. Ids sort by creation time, but only to the millisecond."""
    return sorted(items, key=lambda item: str(item["id"]))


def when(value: str) -> datetime:
    return datetime.fromisoformat(value)


# --- creating -------------------------------------------------------------------------------


@pytest.mark.parametrize("channel", CHANNELS)
def test_create_own_and_shared_accounts_of_each_channel(admin: httpx.Client, channel: str) -> None:
    merchant = create_merchant(admin)
    created = []
    for mode, owner in (("own", merchant["id"]), ("shared", None)):
        body = channel_account_body(channel, mode, owner)
        response = admin.post(ACCOUNTS, json=body)
        account = ok(response, 201)
        assert account["id"].startswith("ca_")
        assert {k: account[k] for k in ("name", "channel", "mode", "merchant_id", "base_url", "enabled")} == {
            "name": body["name"],
            "channel": channel,
            "mode": mode,
            "merchant_id": owner,
            "base_url": body["base_url"],
            "enabled": True,
        }
        assert account["config"] == body["config"]
        assert account["credential_fields"] == SECRET_FIELDS[channel]
        assert "credentials" not in account
        assert account["created_at"] == account["updated_at"]
        assert_hides(response.text, body["credentials"])

        fetched = admin.get(f"{ACCOUNTS}/{account['id']}")
        assert ok(fetched) == account
        assert_hides(fetched.text, body["credentials"])
        created.append(account)

    listed = admin.get(ACCOUNTS)
    assert ok(listed) == {"data": by_id(*created), "has_more": False}
    assert_hides(listed.text, body["credentials"])  # both accounts were sent the same secrets


def test_base_url_defaults_to_the_channel_gateway(admin: httpx.Client) -> None:
    for channel in CHANNELS:
        body = channel_account_body(channel)
        del body["base_url"]
        assert create(admin, body)["base_url"] == DEFAULT_BASE_URLS[channel]
    trailing = account_of(admin, "alipay", base_url="https://sandbox.example/gateway.do/")
    assert trailing["base_url"] == "https://sandbox.example/gateway.do"


def test_wechatpay_certificate_mode_needs_no_platform_public_key(admin: httpx.Client) -> None:
    body = channel_account_body("wechatpay")
    del body["config"]["platform_public_key_id"], body["config"]["platform_public_key_pem"]
    account = create(admin, body)
    assert set(account["config"]) == {"mchid", "appid", "merchant_serial_no"}


def test_credentials_are_encrypted_at_rest(tongbao: Stack, admin: httpx.Client) -> None:
    merchant = create_merchant(admin)
    for channel in CHANNELS:
        body = channel_account_body(channel, "own", merchant["id"])
        account = create(admin, body)
        row = stored(tongbao, account["id"])
        assert row.credentials_ciphertext.startswith("v1.")
        assert_hides(row.credentials_ciphertext, body["credentials"])
        assert ChannelAccountService(tongbao.container).credentials(row) == body["credentials"]

    # The ciphertext is bound to its account: copied onto another account it does not open.
    first, second = (stored(tongbao, a["id"]) for a in accounts(admin)[:2])
    copied = ChannelAccount(id=second.id, credentials_ciphertext=first.credentials_ciphertext)
    with pytest.raises(SecretUnreadable):
        ChannelAccountService(tongbao.container).credentials(copied)


def test_names_are_unique(admin: httpx.Client) -> None:
    first = account_of(admin, "wechatpay", name="Platform WeChat Pay")
    duplicate = admin.post(ACCOUNTS, json=channel_account_body("alipay", name="  Platform WeChat Pay "))
    error = error_of(duplicate, 409)
    assert (error["code"], error["param"]) == ("name_taken", "name")
    assert accounts(admin) == [first]

    second = account_of(admin, "alipay", name="Platform Alipay")
    renamed = admin.patch(f"{ACCOUNTS}/{second['id']}", json={"name": "Platform WeChat Pay"})
    assert error_of(renamed, 409)["code"] == "name_taken"
    assert accounts(admin) == by_id(first, second)
    # Keeping its own name is no clash.
    same = ok(admin.patch(f"{ACCOUNTS}/{second['id']}", json={"name": "Platform Alipay"}))
    assert same["name"] == "Platform Alipay"


# (label, channel, mode, changes to the factory body, status, code, param). In ``changes``,
# "config.x"/"credentials.x" change one field, None removes, MERCHANT is a real merchant's id.
BAD_CREATES: list[tuple[str, str, str, dict[str, Any], int, str, str]] = [
    ("own without owner", "wechatpay", "own", {"merchant_id": None}, 400, "parameter_missing", "merchant_id"),
    ("own with empty owner", "alipay", "own", {"merchant_id": ""}, 400, "parameter_missing", "merchant_id"),
    (
        "own of unknown merchant",
        "alipay",
        "own",
        {"merchant_id": "mch_nope"},
        404,
        "resource_missing",
        "merchant_id",
    ),
    (
        "shared with owner",
        "alipay",
        "shared",
        {"merchant_id": MERCHANT},
        400,
        "parameter_invalid",
        "merchant_id",
    ),
    (
        "shared with empty owner",
        "alipay",
        "shared",
        {"merchant_id": ""},
        400,
        "parameter_invalid",
        "merchant_id",
    ),
    ("no mchid", "wechatpay", "shared", {"config.mchid": None}, 400, "credential_missing", "config.mchid"),
    ("empty appid", "wechatpay", "shared", {"config.appid": ""}, 400, "credential_missing", "config.appid"),
    ("bad mchid", "wechatpay", "shared", {"config.mchid": "12ab"}, 400, "credential_invalid", "config.mchid"),
    (
        "numeric mchid",
        "wechatpay",
        "shared",
        {"config.mchid": 1900000001},
        400,
        "parameter_invalid",
        "config.mchid",
    ),
    (
        "key id without key",
        "wechatpay",
        "shared",
        {"config.platform_public_key_pem": None},
        400,
        "credential_missing",
        "config.platform_public_key_pem",
    ),
    (
        "key without key id",
        "wechatpay",
        "shared",
        {"config.platform_public_key_id": None},
        400,
        "credential_missing",
        "config.platform_public_key_id",
    ),
    (
        "bad platform key",
        "wechatpay",
        "shared",
        {"config.platform_public_key_pem": "not a key"},
        400,
        "credential_invalid",
        "config.platform_public_key_pem",
    ),
    (
        "no apiv3 key",
        "wechatpay",
        "shared",
        {"credentials.apiv3_key": None},
        400,
        "credential_missing",
        "credentials.apiv3_key",
    ),
    (
        "apiv3 key of 31 bytes",
        "wechatpay",
        "shared",
        {"credentials.apiv3_key": "0123456789abcdef0123456789abcde"},
        400,
        "credential_invalid",
        "credentials.apiv3_key",
    ),
    (
        "apiv3 key of 32 chars, 36 bytes",
        "wechatpay",
        "shared",
        {"credentials.apiv3_key": "密钥" + "0" * 30},
        400,
        "credential_invalid",
        "credentials.apiv3_key",
    ),
    (
        "garbage private key",
        "wechatpay",
        "own",
        {"credentials.private_key_pem": GARBAGE_PEM},
        400,
        "credential_invalid",
        "credentials.private_key_pem",
    ),
    (
        "public key as private",
        "wechatpay",
        "shared",
        {"credentials.private_key_pem": rsa_pair(1)[1]},
        400,
        "credential_invalid",
        "credentials.private_key_pem",
    ),
    (
        "RSA-1024 private key",
        "alipay",
        "shared",
        {"credentials.app_private_key_pem": small_rsa_private_pem()},
        400,
        "credential_invalid",
        "credentials.app_private_key_pem",
    ),
    (
        "EC private key",
        "alipay",
        "shared",
        {"credentials.app_private_key_pem": ec_private_pem()},
        400,
        "credential_invalid",
        "credentials.app_private_key_pem",
    ),
    (
        "encrypted private key",
        "alipay",
        "own",
        {"credentials.app_private_key_pem": encrypted_rsa_private_pem()},
        400,
        "credential_invalid",
        "credentials.app_private_key_pem",
    ),
    (
        "no app private key",
        "alipay",
        "own",
        {"credentials.app_private_key_pem": None},
        400,
        "credential_missing",
        "credentials.app_private_key_pem",
    ),
    ("no app_id", "alipay", "shared", {"config.app_id": None}, 400, "credential_missing", "config.app_id"),
    (
        "garbage Alipay key",
        "alipay",
        "shared",
        {"config.alipay_public_key_pem": GARBAGE_PEM},
        400,
        "credential_invalid",
        "config.alipay_public_key_pem",
    ),
    (
        "short mer_id",
        "unionpay",
        "shared",
        {"config.mer_id": "777290058"},
        400,
        "credential_invalid",
        "config.mer_id",
    ),
    (
        "key as certificate",
        "unionpay",
        "own",
        {"config.unionpay_certificate_pem": rsa_pair(2)[1]},
        400,
        "credential_invalid",
        "config.unionpay_certificate_pem",
    ),
    (
        "no signing certificate",
        "unionpay",
        "shared",
        {"credentials.signing_certificate_pem": None},
        400,
        "credential_missing",
        "credentials.signing_certificate_pem",
    ),
    (
        "unknown config field",
        "wechatpay",
        "shared",
        {"config.colour": "red"},
        400,
        "parameter_unknown",
        "config.colour",
    ),
    (
        "unknown credential",
        "unionpay",
        "shared",
        {"credentials.password": "x"},
        400,
        "parameter_unknown",
        "credentials.password",
    ),
    (
        "another channel's credential",
        "alipay",
        "shared",
        {"credentials.apiv3_key": "0123456789abcdef" * 2},
        400,
        "parameter_unknown",
        "credentials.apiv3_key",
    ),
    ("unknown field", "alipay", "shared", {"colour": "red"}, 400, "parameter_unknown", "colour"),
    ("no credentials", "alipay", "shared", {"credentials": None}, 400, "parameter_missing", "credentials"),
    ("blank name", "alipay", "shared", {"name": " "}, 400, "parameter_invalid", "name"),
    ("unknown channel", "alipay", "shared", {"channel": "paypal"}, 400, "parameter_invalid", "channel"),
    ("unknown mode", "alipay", "shared", {"mode": "borrowed"}, 400, "parameter_invalid", "mode"),
    (
        "ftp base_url",
        "unionpay",
        "shared",
        {"base_url": "ftp://gateway.example"},
        400,
        "parameter_invalid",
        "base_url",
    ),
    (
        "base_url without scheme",
        "unionpay",
        "shared",
        {"base_url": "gateway.example"},
        400,
        "parameter_invalid",
        "base_url",
    ),
    (
        "base_url without host",
        "unionpay",
        "shared",
        {"base_url": "https://"},
        400,
        "parameter_invalid",
        "base_url",
    ),
]


def test_bad_account_input_creates_nothing(
    tongbao: Stack, admin: httpx.Client, subtests: pytest.Subtests
) -> None:
    merchant = create_merchant(admin)
    for label, channel, mode, changes, status, code, param in BAD_CREATES:
        with subtests.test(label):
            owner = merchant["id"] if mode == "own" else None
            body = changed(channel_account_body(channel, mode, owner), changes, merchant["id"])
            response = admin.post(ACCOUNTS, json=body)
            error = error_of(response, status)
            assert (error["code"], error["param"]) == (code, param)
            assert error["message"]
            assert_hides(response.text, {k: v for k, v in body.get("credentials", {}).items() if len(v) > 8})
            assert stored_count(tongbao) == 0
    # What the operator sees: nothing was created (accounts cannot be deleted, so none ever was).
    assert accounts(admin) == []


def test_unknown_account(admin: httpx.Client) -> None:
    for response in (
        admin.get(f"{ACCOUNTS}/ca_nope"),
        admin.patch(f"{ACCOUNTS}/ca_nope", json={"enabled": False}),
        admin.put(f"{ACCOUNTS}/ca_nope/credentials", json={"credentials": other_credentials("alipay")}),
    ):
        error = error_of(response, 404)
        assert (error["code"], error["param"]) == ("resource_missing", "channel_account_id")
    assert accounts(admin) == []


# --- listing --------------------------------------------------------------------------------


def test_list_filters_and_pages(admin: httpx.Client) -> None:
    first, second = create_merchant(admin), create_merchant(admin)
    shared_wechat = account_of(admin, "wechatpay")
    own_alipay = account_of(admin, "alipay", "own", first["id"])
    own_wechat = account_of(admin, "wechatpay", "own", second["id"])
    shared_unionpay = account_of(admin, "unionpay")

    everything = by_id(shared_wechat, own_alipay, own_wechat, shared_unionpay)
    assert accounts(admin) == everything
    assert accounts(admin, channel="wechatpay") == by_id(shared_wechat, own_wechat)
    assert accounts(admin, channel="unionpay") == [shared_unionpay]
    assert accounts(admin, merchant_id=first["id"]) == [own_alipay]  # shared accounts belong to no one
    assert accounts(admin, channel="wechatpay", merchant_id=first["id"]) == []

    page = ok(admin.get(ACCOUNTS, params={"limit": 3}))
    assert page == {"data": everything[:3], "has_more": True}
    rest = ok(admin.get(ACCOUNTS, params={"limit": 3, "starting_after": everything[2]["id"]}))
    assert rest == {"data": everything[3:], "has_more": False}

    error = error_of(admin.get(ACCOUNTS, params={"channel": "paypal"}), 400)
    assert (error["code"], error["param"]) == ("parameter_invalid", "channel")
    assert error_of(admin.get(ACCOUNTS, params={"limit": 0}), 400)["param"] == "limit"


# --- changing -------------------------------------------------------------------------------


def test_patch_changes_public_settings(tongbao: Stack, admin: httpx.Client) -> None:
    body = channel_account_body("wechatpay")
    account = create(admin, body)
    tongbao.clock.advance(60)
    response = admin.patch(
        f"{ACCOUNTS}/{account['id']}",
        json={"name": "Renamed", "base_url": "https://sandbox.example/v3/", "config": WECHAT_CONFIG},
    )
    patched = ok(response)
    assert_hides(response.text, body["credentials"])
    assert patched == {
        **account,
        "name": "Renamed",
        "base_url": "https://sandbox.example/v3",
        "config": WECHAT_CONFIG,  # replaced whole: the platform public key pair is gone
        "updated_at": patched["updated_at"],
    }
    assert when(patched["updated_at"]) > when(account["updated_at"])
    assert ok(admin.get(f"{ACCOUNTS}/{account['id']}")) == patched
    # Fields left out stay as they were; the credentials were not touched.
    assert ok(admin.patch(f"{ACCOUNTS}/{account['id']}", json={}))["config"] == WECHAT_CONFIG
    assert stored_credentials(tongbao, account["id"]) == body["credentials"]


def test_disable_and_enable(admin: httpx.Client) -> None:
    account = account_of(admin, "unionpay")
    disabled = ok(admin.patch(f"{ACCOUNTS}/{account['id']}", json={"enabled": False}))
    assert disabled["enabled"] is False
    assert ok(admin.get(f"{ACCOUNTS}/{account['id']}"))["enabled"] is False
    assert [a["enabled"] for a in accounts(admin)] == [False]
    assert ok(admin.patch(f"{ACCOUNTS}/{account['id']}", json={"enabled": True}))["enabled"] is True


BAD_PATCHES: list[tuple[dict[str, Any], str, str]] = [
    ({"base_url": "ftp://sandbox.example"}, "parameter_invalid", "base_url"),
    ({"base_url": "sandbox.example"}, "parameter_invalid", "base_url"),
    ({"config": {**WECHAT_CONFIG, "mchid": None}}, "credential_missing", "config.mchid"),
    ({"config": {"appid": "wx1111111111111111"}}, "credential_missing", "config.mchid"),
    (
        {"config": {**WECHAT_CONFIG, "platform_public_key_id": "PUB_KEY_ID_0002"}},
        "credential_missing",
        "config.platform_public_key_pem",
    ),
    (
        {"config": {**WECHAT_CONFIG, "platform_public_key_pem": rsa_pair(2)[1]}},
        "credential_missing",
        "config.platform_public_key_id",
    ),
    (
        {"config": {**WECHAT_CONFIG, "merchant_serial_no": "xyz"}},
        "credential_invalid",
        "config.merchant_serial_no",
    ),
    ({"config": {**WECHAT_CONFIG, "secret": "x"}}, "parameter_unknown", "config.secret"),
    ({"config": "mchid=1900000999"}, "parameter_invalid", "config"),
    ({"credentials": {"apiv3_key": APIV3_KEY}}, "parameter_unknown", "credentials"),
    ({"channel": "alipay"}, "parameter_unknown", "channel"),
    ({"mode": "own"}, "parameter_unknown", "mode"),
    ({"merchant_id": "mch_x"}, "parameter_unknown", "merchant_id"),
    ({"enabled": "maybe"}, "parameter_invalid", "enabled"),
    ({"name": ""}, "parameter_invalid", "name"),
    ({"name": "x" * 101}, "parameter_invalid", "name"),
]


def test_bad_patch_changes_nothing(tongbao: Stack, admin: httpx.Client, subtests: pytest.Subtests) -> None:
    body = channel_account_body("wechatpay")
    account = create(admin, body)
    before = row_state(tongbao, account["id"])
    for case, (fields, code, param) in enumerate(BAD_PATCHES):
        with subtests.test(f"{code} {param}", case=case):
            error = error_of(admin.patch(f"{ACCOUNTS}/{account['id']}", json=fields), 400)
            assert (error["code"], error["param"]) == (code, param)
            assert row_state(tongbao, account["id"]) == before
    # What the operator sees after all of them (any change would also have moved updated_at).
    assert ok(admin.get(f"{ACCOUNTS}/{account['id']}")) == account
    assert stored_credentials(tongbao, account["id"]) == body["credentials"]


@pytest.mark.parametrize("channel", CHANNELS)
def test_replace_credentials(tongbao: Stack, admin: httpx.Client, channel: str) -> None:
    body = channel_account_body(channel)
    account = create(admin, body)
    tongbao.clock.advance(60)
    fresh = other_credentials(channel)
    response = admin.put(f"{ACCOUNTS}/{account['id']}/credentials", json={"credentials": fresh})
    replaced = ok(response)
    assert_hides(response.text, fresh)
    assert_hides(response.text, body["credentials"])
    assert replaced == {**account, "updated_at": replaced["updated_at"]}
    assert when(replaced["updated_at"]) > when(account["updated_at"])

    assert stored_credentials(tongbao, account["id"]) == fresh
    ciphertext = stored(tongbao, account["id"]).credentials_ciphertext
    assert_hides(ciphertext, fresh)
    assert_hides(ciphertext, body["credentials"])
    fetched = admin.get(f"{ACCOUNTS}/{account['id']}")
    assert ok(fetched) == replaced
    assert_hides(fetched.text, fresh)


NEW_KEY = rsa_pair(3)[0]
BAD_CREDENTIALS: list[tuple[dict[str, Any], str, str]] = [
    ({"credentials": {"private_key_pem": NEW_KEY}}, "credential_missing", "credentials.apiv3_key"),
    ({"credentials": {"apiv3_key": APIV3_KEY}}, "credential_missing", "credentials.private_key_pem"),
    ({"credentials": {}}, "credential_missing", "credentials.private_key_pem"),
    (
        {"credentials": {"private_key_pem": NEW_KEY, "apiv3_key": ""}},
        "credential_missing",
        "credentials.apiv3_key",
    ),
    (
        {"credentials": {"private_key_pem": NEW_KEY, "apiv3_key": "too short"}},
        "credential_invalid",
        "credentials.apiv3_key",
    ),
    (
        {"credentials": {"private_key_pem": GARBAGE_PEM, "apiv3_key": APIV3_KEY}},
        "credential_invalid",
        "credentials.private_key_pem",
    ),
    (
        {"credentials": {"private_key_pem": encrypted_rsa_private_pem(), "apiv3_key": APIV3_KEY}},
        "credential_invalid",
        "credentials.private_key_pem",
    ),
    (
        {"credentials": {"private_key_pem": NEW_KEY, "apiv3_key": APIV3_KEY, "x": "1"}},
        "parameter_unknown",
        "credentials.x",
    ),
    (
        {"credentials": {"app_private_key_pem": NEW_KEY}},
        "parameter_unknown",
        "credentials.app_private_key_pem",
    ),
    (
        {"credentials": {"private_key_pem": NEW_KEY, "apiv3_key": 12345}},
        "parameter_invalid",
        "credentials.apiv3_key",
    ),
    ({}, "parameter_missing", "credentials"),
    ({"credentials": "secret"}, "parameter_invalid", "credentials"),
    (
        {"credentials": {"private_key_pem": NEW_KEY, "apiv3_key": APIV3_KEY}, "name": "x"},
        "parameter_unknown",
        "name",
    ),
]


def test_bad_credentials_change_nothing(
    tongbao: Stack, admin: httpx.Client, subtests: pytest.Subtests
) -> None:
    body = channel_account_body("wechatpay")
    account = create(admin, body)
    before = row_state(tongbao, account["id"])
    url = f"{ACCOUNTS}/{account['id']}/credentials"
    for case, (payload, code, param) in enumerate(BAD_CREDENTIALS):
        with subtests.test(f"{code} {param}", case=case):
            response = admin.put(url, json=payload)
            error = error_of(response, 400)
            assert (error["code"], error["param"]) == (code, param)
            sent = payload.get("credentials")
            if isinstance(sent, dict):
                assert_hides(
                    response.text, {k: v for k, v in sent.items() if isinstance(v, str) and len(v) > 8}
                )
            assert row_state(tongbao, account["id"]) == before
    assert ok(admin.get(f"{ACCOUNTS}/{account['id']}")) == account
    assert stored_credentials(tongbao, account["id"]) == body["credentials"]


# --- binding merchants ----------------------------------------------------------------------


def test_shared_account_serves_many_merchants(admin: httpx.Client) -> None:
    first, second = create_merchant(admin), create_merchant(admin)
    shared = account_of(admin, "wechatpay")
    for merchant in (first, second):
        binding = ok(bind(admin, merchant["id"], "wechatpay", shared["id"]))
        assert {k: binding[k] for k in ("merchant_id", "channel", "channel_account_id")} == {
            "merchant_id": merchant["id"],
            "channel": "wechatpay",
            "channel_account_id": shared["id"],
        }
        assert bindings(admin, merchant["id"]) == [binding]


def test_own_account_binds_only_to_its_owner(admin: httpx.Client) -> None:
    owner, stranger = create_merchant(admin), create_merchant(admin)
    own = account_of(admin, "alipay", "own", owner["id"])
    ok(bind(admin, owner["id"], "alipay", own["id"]))
    error = error_of(bind(admin, stranger["id"], "alipay", own["id"]), 409)
    assert (error["code"], error["param"]) == ("channel_account_not_shared", "channel_account_id")
    assert bindings(admin, stranger["id"]) == []
    assert [b["channel_account_id"] for b in bindings(admin, owner["id"])] == [own["id"]]


def test_each_channel_binds_once_and_rebinding_replaces(tongbao: Stack, admin: httpx.Client) -> None:
    merchant = create_merchant(admin)
    wechat_a, wechat_b = account_of(admin, "wechatpay"), account_of(admin, "wechatpay", "own", merchant["id"])
    alipay, unionpay = account_of(admin, "alipay"), account_of(admin, "unionpay")
    for channel, account in (("wechatpay", wechat_a), ("unionpay", unionpay), ("alipay", alipay)):
        ok(bind(admin, merchant["id"], channel, account["id"]))
    before = bindings(admin, merchant["id"])
    assert [(b["channel"], b["channel_account_id"]) for b in before] == [
        ("alipay", alipay["id"]),
        ("unionpay", unionpay["id"]),
        ("wechatpay", wechat_a["id"]),
    ]

    tongbao.clock.advance(60)
    rebound = ok(bind(admin, merchant["id"], "wechatpay", wechat_b["id"]))
    assert rebound["channel_account_id"] == wechat_b["id"]
    assert rebound["created_at"] == before[2]["created_at"]
    assert when(rebound["updated_at"]) > when(before[2]["updated_at"])
    assert bindings(admin, merchant["id"]) == [*before[:2], rebound]


def test_unbinding(admin: httpx.Client) -> None:
    merchant = create_merchant(admin)
    alipay, unionpay = account_of(admin, "alipay"), account_of(admin, "unionpay")
    ok(bind(admin, merchant["id"], "alipay", alipay["id"]))
    kept = ok(bind(admin, merchant["id"], "unionpay", unionpay["id"]))
    url = f"/admin/v1/merchants/{merchant['id']}/channels"

    response = admin.delete(f"{url}/alipay")
    assert response.status_code == 204 and response.content == b""
    assert bindings(admin, merchant["id"]) == [kept]
    for channel in ("alipay", "wechatpay"):
        error = error_of(admin.delete(f"{url}/{channel}"), 404)
        assert (error["code"], error["param"]) == ("resource_missing", "channel")
    assert bindings(admin, merchant["id"]) == [kept]
    # Unbinding leaves the account itself alone.
    assert ok(admin.get(f"{ACCOUNTS}/{alipay['id']}")) == alipay


def test_disabled_account_cannot_be_bound(admin: httpx.Client) -> None:
    merchant = create_merchant(admin)
    current, other = account_of(admin, "unionpay"), account_of(admin, "unionpay")
    binding = ok(bind(admin, merchant["id"], "unionpay", current["id"]))
    ok(admin.patch(f"{ACCOUNTS}/{other['id']}", json={"enabled": False}))
    error = error_of(bind(admin, merchant["id"], "unionpay", other["id"]), 409)
    assert (error["code"], error["param"]) == ("channel_account_disabled", "channel_account_id")
    assert bindings(admin, merchant["id"]) == [binding]

    ok(admin.patch(f"{ACCOUNTS}/{other['id']}", json={"enabled": True}))
    assert ok(bind(admin, merchant["id"], "unionpay", other["id"]))["channel_account_id"] == other["id"]


def test_refused_bindings_change_nothing(
    tongbao: Stack, admin: httpx.Client, subtests: pytest.Subtests
) -> None:
    merchant, stranger = create_merchant(admin), create_merchant(admin)
    wechat = account_of(admin, "wechatpay")
    alipay = account_of(admin, "alipay")
    strangers_own = account_of(admin, "wechatpay", "own", stranger["id"])
    binding = ok(bind(admin, merchant["id"], "wechatpay", wechat["id"]))
    ok(bind(admin, stranger["id"], "wechatpay", strangers_own["id"]))
    before = stored_bindings(tongbao)
    base = f"/admin/v1/merchants/{merchant['id']}/channels"
    mid = merchant["id"]
    refused: list[tuple[str, Callable[[], httpx.Response], int, str, str]] = [
        (
            "wrong channel",
            lambda: bind(admin, mid, "wechatpay", alipay["id"]),
            400,
            "channel_mismatch",
            "channel_account_id",
        ),
        (
            "other channel",
            lambda: bind(admin, mid, "alipay", wechat["id"]),
            400,
            "channel_mismatch",
            "channel_account_id",
        ),
        (
            "another merchant's own",
            lambda: bind(admin, mid, "wechatpay", strangers_own["id"]),
            409,
            "channel_account_not_shared",
            "channel_account_id",
        ),
        (
            "unknown account",
            lambda: bind(admin, mid, "wechatpay", "ca_nope"),
            404,
            "resource_missing",
            "channel_account_id",
        ),
        (
            "unknown channel",
            lambda: bind(admin, mid, "paypal", wechat["id"]),
            400,
            "parameter_invalid",
            "channel",
        ),
        (
            "no account",
            lambda: admin.put(f"{base}/wechatpay", json={}),
            400,
            "parameter_missing",
            "channel_account_id",
        ),
        (
            "unknown field",
            lambda: admin.put(f"{base}/wechatpay", json={"channel_account_id": wechat["id"], "x": 1}),
            400,
            "parameter_unknown",
            "x",
        ),
        (
            "unbind unknown channel",
            lambda: admin.delete(f"{base}/paypal"),
            400,
            "parameter_invalid",
            "channel",
        ),
    ]
    for label, call, status, code, param in refused:
        with subtests.test(label):
            error = error_of(call(), status)
            assert (error["code"], error["param"]) == (code, param)
            assert stored_bindings(tongbao) == before
    assert bindings(admin, merchant["id"]) == [binding]
    assert [b["channel_account_id"] for b in bindings(admin, stranger["id"])] == [strangers_own["id"]]


def test_bindings_of_an_unknown_merchant(admin: httpx.Client) -> None:
    shared = account_of(admin, "alipay")
    for response in (
        admin.get("/admin/v1/merchants/mch_nope/channels"),
        bind(admin, "mch_nope", "alipay", shared["id"]),
        admin.delete("/admin/v1/merchants/mch_nope/channels/alipay"),
    ):
        error = error_of(response, 404)
        assert (error["code"], error["param"]) == ("resource_missing", "merchant_id")
    assert ok(admin.get(f"{ACCOUNTS}/{shared['id']}")) == shared
