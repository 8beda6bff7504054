"""Building blocks tests create through the operator API, as an operator would."""

from __future__ import annotations

import functools
import itertools
from typing import Any

import httpx
from cryptography.hazmat.primitives.asymmetric import rsa

from tongbao.demo.sample_files import tiny_pdf, tiny_png
from tongbao.security import samples

_counter = itertools.count(1)

DOCUMENTS = {
    "business_license": ("licence.pdf", "application/pdf"),
    "legal_person_id": ("id.png", "image/png"),
    "settlement_account_proof": ("bank.pdf", "application/pdf"),
}


def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json() if response.content else None


def error_of(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    error: dict[str, Any] = response.json()["error"]
    assert error["request_id"].startswith("req_")
    return error


def sample_file(content_type: str, label: str = "") -> bytes:
    return tiny_png(label.encode()) if content_type == "image/png" else tiny_pdf(label or "doc")


def create_merchant(admin: httpx.Client, **fields: Any) -> dict[str, Any]:
    n = next(_counter)
    body = {"name": f"Merchant {n}", "legal_name": f"Merchant {n} Co., Ltd.", **fields}
    return ok(admin.post("/admin/v1/merchants", json=body), 201)  # type: ignore[no-any-return]


def upload_documents(admin: httpx.Client, merchant_id: str) -> None:
    for kind, (filename, content_type) in DOCUMENTS.items():
        files = {"file": (filename, sample_file(content_type, kind), content_type)}
        ok(admin.post(f"/admin/v1/merchants/{merchant_id}/documents", data={"kind": kind}, files=files), 201)


def active_merchant(admin: httpx.Client, **fields: Any) -> dict[str, Any]:
    merchant = create_merchant(admin, **fields)
    upload_documents(admin, merchant["id"])
    for action in ("submit", "approve", "activate"):
        merchant = ok(admin.post(f"/admin/v1/merchants/{merchant['id']}/{action}"))
    return merchant


def create_app(admin: httpx.Client, merchant_id: str, **fields: Any) -> dict[str, Any]:
    body = {"merchant_id": merchant_id, "name": f"App {next(_counter)}", **fields}
    return ok(admin.post("/admin/v1/apps", json=body), 201)  # type: ignore[no-any-return]


@functools.cache
def _pooled_key(index: int) -> rsa.RSAPrivateKey:
    return samples.new_rsa_key()


_next_key = itertools.count()


def merchant_key() -> rsa.RSAPrivateKey:
    """A merchant's signing key for a channel account: drawn from a few made once per process, since
    making a 2048-bit key for every test's merchant costs more than the test (tests that need a key
    nobody else holds make their own)."""
    return _pooled_key(next(_next_key) % 4)


@functools.cache
def rsa_pair(index: int = 0) -> tuple[str, str]:
    """(private PEM, public PEM), made once per test process."""
    key = samples.new_rsa_key()
    return samples.private_pem(key), samples.public_pem(key)


@functools.cache
def certificate(index: int = 0) -> tuple[str, str]:
    """(private PEM, self-signed certificate PEM)."""
    key = samples.new_rsa_key()
    return samples.private_pem(key), samples.self_signed_certificate(key, f"test-{index}")


def channel_account_body(
    channel: str, mode: str = "shared", merchant_id: str | None = None, **overrides: Any
) -> dict[str, Any]:
    n = next(_counter)
    private, public = rsa_pair(1)
    _, platform_public = rsa_pair(2)
    signing_key, signing_cert = certificate(1)
    _, unionpay_cert = certificate(2)
    settings: dict[str, tuple[dict[str, str], dict[str, str]]] = {
        "wechatpay": (
            {
                "mchid": f"19000{n:05d}",
                "appid": "wx8888888888888888",
                "merchant_serial_no": "5157F09EFDC096DE",
                "platform_public_key_id": "PUB_KEY_ID_0001",
                "platform_public_key_pem": platform_public,
            },
            {"private_key_pem": private, "apiv3_key": "0123456789abcdef0123456789abcdef"},
        ),
        "alipay": (
            {"app_id": f"20210{n:05d}", "alipay_public_key_pem": platform_public},
            {"app_private_key_pem": private},
        ),
        "unionpay": (
            {"mer_id": f"7772900581{n:05d}", "unionpay_certificate_pem": unionpay_cert},
            {"signing_private_key_pem": signing_key, "signing_certificate_pem": signing_cert},
        ),
    }
    config, credentials = settings[channel]
    body: dict[str, Any] = {
        "name": f"{channel} account {n}",
        "channel": channel,
        "mode": mode,
        "base_url": f"http://127.0.0.1:9/sim/{channel}",
        "config": config,
        "credentials": credentials,
    }
    if merchant_id:
        body["merchant_id"] = merchant_id
    body.update(overrides)
    return body
