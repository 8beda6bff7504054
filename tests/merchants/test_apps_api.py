"""Apps through the operator API: secrets shown once and stored encrypted, rotation with overlap."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from tongbao.client import TongbaoClient
from tongbao.merchants.models import AppSecret

from ..support.factories import active_merchant, create_app, create_merchant, error_of, ok, rsa_pair
from ..support.stack import Stack

MakeClient = Callable[..., TongbaoClient]


def apps_of(admin: httpx.Client, merchant_id: str | None = None) -> list[dict[str, Any]]:
    params = {"merchant_id": merchant_id} if merchant_id else {}
    return ok(admin.get("/admin/v1/apps", params=params))["data"]  # type: ignore[no-any-return]


def test_create_shows_the_secret_once_and_never_again(tongbao: Stack, admin: httpx.Client) -> None:
    merchant = create_merchant(admin)
    app = create_app(
        admin, merchant["id"], notify_url="https://shop.example/notify", ip_allowlist=["10.1.2.3"]
    )
    assert app["secret"].startswith("tbs_") and len(app["secret"]) > 40
    assert app["ip_allowlist"] == ["10.1.2.3/32"]
    fetched = ok(admin.get(f"/admin/v1/apps/{app['id']}"))
    assert "secret" not in fetched
    assert app["secret"] not in admin.get("/admin/v1/apps").text

    async def stored() -> list[str]:
        async with tongbao.container.uow() as tx:
            return list(
                await tx.scalars(select(AppSecret.secret_ciphertext).where(AppSecret.app_id == app["id"]))
            )

    (ciphertext,) = tongbao.server.run(stored())
    assert app["secret"] not in ciphertext and ciphertext.startswith("v1.")


def test_names_are_unique_per_merchant(admin: httpx.Client) -> None:
    first, second = create_merchant(admin), create_merchant(admin)
    create_app(admin, first["id"], name="Checkout")
    duplicate = admin.post("/admin/v1/apps", json={"merchant_id": first["id"], "name": "Checkout"})
    assert error_of(duplicate, 409)["code"] == "name_taken"
    assert len(apps_of(admin, first["id"])) == 1
    create_app(admin, second["id"], name="Checkout")  # another merchant may use the name
    other = create_app(admin, first["id"], name="Refunds")
    renamed = admin.patch(f"/admin/v1/apps/{other['id']}", json={"name": "Checkout"})
    assert error_of(renamed, 409)["code"] == "name_taken"
    assert ok(admin.get(f"/admin/v1/apps/{other['id']}"))["name"] == "Refunds"


@pytest.mark.parametrize(
    ("fields", "param", "code"),
    [
        ({"notify_url": "ftp://shop.example/notify"}, "notify_url", "parameter_invalid"),
        ({"notify_url": "not a url"}, "notify_url", "parameter_invalid"),
        ({"ip_allowlist": ["10.0.0.0/8", "nonsense"]}, "ip_allowlist.1", "parameter_invalid"),
        (
            {"rsa_public_key_pem": "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----"},
            "rsa_public_key_pem",
            "parameter_invalid",
        ),
        ({"name": ""}, "name", "parameter_invalid"),
        ({"colour": "red"}, "colour", "parameter_unknown"),
    ],
)
def test_bad_app_input_creates_nothing(
    admin: httpx.Client, fields: dict[str, Any], param: str, code: str
) -> None:
    merchant = create_merchant(admin)
    response = admin.post("/admin/v1/apps", json={"merchant_id": merchant["id"], "name": "Shop", **fields})
    error = error_of(response, 400)
    assert (error["code"], error["param"]) == (code, param)
    assert apps_of(admin) == []


def test_unknown_merchant_and_app(admin: httpx.Client) -> None:
    response = admin.post("/admin/v1/apps", json={"merchant_id": "mch_nope", "name": "Shop"})
    assert error_of(response, 404)["code"] == "resource_missing"
    assert error_of(admin.get("/admin/v1/apps/app_nope"), 404)["code"] == "resource_missing"
    assert error_of(admin.post("/admin/v1/apps/app_nope/rotate-secret"), 404)["code"] == "resource_missing"
    assert apps_of(admin) == []


def test_update_and_clear_fields(admin: httpx.Client) -> None:
    merchant = create_merchant(admin)
    _, public = rsa_pair(0)
    app = create_app(admin, merchant["id"], rsa_public_key_pem=public, notify_url="https://a.example/n")
    updated = ok(
        admin.patch(f"/admin/v1/apps/{app['id']}", json={"notify_url": None, "rsa_public_key_pem": None})
    )
    assert updated["notify_url"] is None and updated["rsa_public_key_pem"] is None
    refused = admin.patch(f"/admin/v1/apps/{app['id']}", json={"name": None})
    assert error_of(refused, 400)["param"] == "name"


def test_rotation_keeps_the_old_secret_for_the_overlap(
    tongbao: Stack, admin: httpx.Client, make_client: MakeClient
) -> None:
    app = create_app(admin, active_merchant(admin)["id"])
    old = make_client(app["id"], app["secret"])
    assert old.get("/v1/me").status_code == 200

    rotated = ok(admin.post(f"/admin/v1/apps/{app['id']}/rotate-secret", json={"overlap_seconds": 600}))
    assert rotated["secret"] != app["secret"] and rotated["previous_secret_expires_at"]
    new = make_client(app["id"], rotated["secret"])
    assert old.get("/v1/me").status_code == 200  # answered and signed with the old secret
    assert new.get("/v1/me").status_code == 200

    tongbao.clock.advance(601)
    assert error_of(old.get("/v1/me", verify=False), 401)["code"] in (
        "signature_invalid",
        "timestamp_out_of_window",
    )
    # Sign at the server's moved clock so only the secret decides.
    now = int(tongbao.clock.now().timestamp())
    late_old = make_client(app["id"], app["secret"], now=lambda: now)
    assert error_of(late_old.get("/v1/me"), 401)["code"] == "signature_invalid"
    late_new = make_client(app["id"], rotated["secret"], now=lambda: now)
    assert late_new.get("/v1/me").status_code == 200


def test_rotation_without_overlap_and_bounds(admin: httpx.Client, make_client: MakeClient) -> None:
    app = create_app(admin, active_merchant(admin)["id"])
    too_long = admin.post(f"/admin/v1/apps/{app['id']}/rotate-secret", json={"overlap_seconds": 8 * 86400})
    assert error_of(too_long, 400)["param"] == "overlap_seconds"
    assert make_client(app["id"], app["secret"]).get("/v1/me").status_code == 200  # nothing rotated
    rotated = ok(admin.post(f"/admin/v1/apps/{app['id']}/rotate-secret", json={"overlap_seconds": 0}))
    assert error_of(make_client(app["id"], app["secret"]).get("/v1/me"), 401)["code"] == "signature_invalid"
    assert make_client(app["id"], rotated["secret"]).get("/v1/me").status_code == 200
