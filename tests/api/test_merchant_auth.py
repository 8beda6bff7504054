"""The merchant API's door: signatures, freshness, replay, idempotency, signed answers, isolation."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from tongbao.client import ResponseSignatureInvalid, TongbaoClient, encode_json
from tongbao.security import signing

from ..support.factories import active_merchant, create_app, create_merchant, error_of, ok, rsa_pair
from ..support.stack import Stack

MakeClient = Callable[..., TongbaoClient]


@pytest.fixture
def shop(tongbao: Stack, admin: httpx.Client) -> dict[str, Any]:
    merchant = active_merchant(admin)
    return {"merchant": merchant, "app": create_app(admin, merchant["id"])}


@pytest.fixture
def client(make_client: MakeClient, shop: dict[str, Any]) -> TongbaoClient:
    return make_client(shop["app"]["id"], shop["app"]["secret"])


def send(
    tongbao: Stack, method: str, path: str, body: bytes, authorization: str | None, **headers: str
) -> httpx.Response:
    sent = dict(headers)
    if authorization is not None:
        sent["Authorization"] = authorization
    return httpx.request(method, tongbao.url + path, content=body, headers=sent, timeout=30)


def test_me_returns_the_calling_app_and_its_merchant_signed(
    client: TongbaoClient, shop: dict[str, Any]
) -> None:
    response = client.get("/v1/me")  # the client verifies Tongbao's signature or raises
    me = ok(response)
    assert me["app"]["id"] == shop["app"]["id"]
    assert me["merchant"] == {
        "id": shop["merchant"]["id"],
        "name": shop["merchant"]["name"],
        "legal_name": shop["merchant"]["legal_name"],
        "status": "active",
        "can_take_payments": True,
    }
    for header in ("tongbao-timestamp", "tongbao-nonce", "tongbao-signature", "tongbao-request-id"):
        assert header in response.headers


def test_a_tampered_response_is_refused_by_the_client(client: TongbaoClient, make_client: MakeClient) -> None:
    response = client.get("/v1/me")
    with pytest.raises(ResponseSignatureInvalid):
        client.verify_signed(response.headers, response.content.replace(b"active", b"ACTIVE"))
    other = make_client(client.app_id, "tbs_some-other-secret")
    with pytest.raises(ResponseSignatureInvalid):
        other.verify_response(response)


def test_the_same_request_replayed_is_refused(tongbao: Stack, client: TongbaoClient) -> None:
    authorization = client.sign("GET", "/v1/me", b"")["Authorization"]
    assert send(tongbao, "GET", "/v1/me", b"", authorization).status_code == 200
    replay = send(tongbao, "GET", "/v1/me", b"", authorization)
    assert error_of(replay, 401)["code"] == "replayed_request"


def test_a_nonce_is_spent_even_on_another_path(tongbao: Stack, client: TongbaoClient) -> None:
    nonce = signing.new_nonce()
    first = client.sign("GET", "/v1/me", b"", nonce=nonce)["Authorization"]
    assert send(tongbao, "GET", "/v1/me", b"", first).status_code == 200
    body = encode_json({"x": 1})
    second = client.sign("POST", "/v1/echo", body, nonce=nonce)["Authorization"]
    response = send(tongbao, "POST", "/v1/echo", body, second, **{"Content-Type": "application/json"})
    assert error_of(response, 401)["code"] == "replayed_request"


@pytest.mark.parametrize(("skew_s", "accepted"), [(-305, False), (-290, True), (290, True), (305, False)])
def test_timestamps_outside_300_seconds_are_refused(
    tongbao: Stack, client: TongbaoClient, skew_s: int, accepted: bool
) -> None:
    authorization = client.sign("GET", "/v1/me", b"", timestamp=int(time.time()) + skew_s)["Authorization"]
    response = send(tongbao, "GET", "/v1/me", b"", authorization)
    if accepted:
        assert response.status_code == 200
    else:
        assert error_of(response, 401)["code"] == "timestamp_out_of_window"


def test_unknown_app_and_wrong_secret(make_client: MakeClient, shop: dict[str, Any]) -> None:
    unknown = make_client("app_01ARZ3NDEKTSV4RRFFQ69G5FAV", "tbs_whatever")
    assert error_of(unknown.get("/v1/me"), 401)["code"] == "app_unknown"
    wrong = make_client(shop["app"]["id"], "tbs_not-the-secret")
    error = error_of(wrong.get("/v1/me"), 401)
    assert error["code"] == "signature_invalid" and error["param"] == "signature"


def test_a_tampered_body_fails_the_signature(tongbao: Stack, client: TongbaoClient) -> None:
    signed_body = encode_json({"amount": 100})
    authorization = client.sign("POST", "/v1/echo", signed_body)["Authorization"]
    response = send(
        tongbao,
        "POST",
        "/v1/echo",
        encode_json({"amount": 999}),
        authorization,
        **{"Content-Type": "application/json"},
    )
    assert error_of(response, 401)["code"] == "signature_invalid"
    # ...and so does a query string added after signing.
    authorization = client.sign("GET", "/v1/me", b"")["Authorization"]
    assert (
        error_of(send(tongbao, "GET", "/v1/me?x=1", b"", authorization), 401)["code"] == "signature_invalid"
    )


@pytest.mark.parametrize(
    "header",
    [
        "",
        "Bearer abc",
        "TONGBAO-HMAC-SHA256",
        'TONGBAO-HMAC-SHA256 app_id="app_01ARZ3NDEKTSV4RRFFQ69G5FAV",timestamp="1",'
        'nonce="short",signature="x"',
        'TONGBAO-HMAC-SHA256 app_id="app_01ARZ3NDEKTSV4RRFFQ69G5FAV",timestamp="soon",'
        'nonce="0123456789abcdef",signature="x"',
        'TONGBAO-HMAC-SHA256 app_id="app_01ARZ3NDEKTSV4RRFFQ69G5FAV",nonce="0123456789abcdef",signature="x"',
        'TONGBAO-HMAC-SHA256 app_id="app_01ARZ3NDEKTSV4RRFFQ69G5FAV",app_id="app_01ARZ3NDEKTSV4RRFFQ69G5FAV",'
        'timestamp="1",nonce="0123456789abcdef",signature="x"',
        "TONGBAO-HMAC-SHA256 app_id=app_01ARZ3NDEKTSV4RRFFQ69G5FAV,timestamp=1,"
        "nonce=0123456789abcdef,signature=x",
        'TONGBAO-HMAC-SHA256 app_id="mch_01ARZ3NDEKTSV4RRFFQ69G5FAV",timestamp="1",'
        'nonce="0123456789abcdef",signature="x"',
    ],
)
def test_malformed_authorization_headers(tongbao: Stack, header: str) -> None:
    error = error_of(send(tongbao, "GET", "/v1/me", b"", header), 401)
    assert error["code"] == ("authorization_missing" if header == "" else "authorization_malformed")
    assert error["param"] == "Authorization"


def test_missing_authorization(tongbao: Stack) -> None:
    assert error_of(send(tongbao, "GET", "/v1/me", b"", None), 401)["code"] == "authorization_missing"


def test_disabled_app_is_refused_and_comes_back_when_enabled(
    admin: httpx.Client, client: TongbaoClient, shop: dict[str, Any]
) -> None:
    ok(admin.post(f"/admin/v1/apps/{shop['app']['id']}/disable"))
    assert error_of(client.get("/v1/me"), 403)["code"] == "app_disabled"
    ok(admin.post(f"/admin/v1/apps/{shop['app']['id']}/enable"))
    assert client.get("/v1/me").status_code == 200


def test_ip_allowlist(admin: httpx.Client, client: TongbaoClient, shop: dict[str, Any]) -> None:
    ok(admin.patch(f"/admin/v1/apps/{shop['app']['id']}", json={"ip_allowlist": ["10.0.0.0/8"]}))
    assert error_of(client.get("/v1/me"), 403)["code"] == "ip_not_allowed"
    ok(admin.patch(f"/admin/v1/apps/{shop['app']['id']}", json={"ip_allowlist": ["10.0.0.0/8", "127.0.0.1"]}))
    assert client.get("/v1/me").status_code == 200


def test_rsa_signed_requests(make_client: MakeClient, admin: httpx.Client, shop: dict[str, Any]) -> None:
    private, public = rsa_pair(0)
    app = shop["app"]
    rsa_client = make_client(app["id"], app["secret"], private_key_pem=private)
    error = error_of(rsa_client.get("/v1/me"), 401)
    assert error["code"] == "signature_invalid" and "no RSA public key" in error["message"]
    ok(admin.patch(f"/admin/v1/apps/{shop['app']['id']}", json={"rsa_public_key_pem": public}))
    me = ok(rsa_client.get("/v1/me"))
    assert me["app"]["signing_schemes"] == ["TONGBAO-HMAC-SHA256", "TONGBAO-RSA-SHA256"]
    other_private, _ = rsa_pair(1)
    impostor = make_client(app["id"], app["secret"], private_key_pem=other_private)
    assert error_of(impostor.get("/v1/me"), 401)["code"] == "signature_invalid"


def test_idempotency_key_returns_the_first_answer(client: TongbaoClient) -> None:
    first = client.post("/v1/echo", {"order": "A-1"}, idempotency_key="key-1")
    again = client.post("/v1/echo", {"order": "A-1"}, idempotency_key="key-1")
    assert ok(first) == ok(again)  # the same id: the handler ran once
    assert again.headers["idempotent-replayed"] == "true"
    different = client.post("/v1/echo", {"order": "A-2"}, idempotency_key="key-1")
    assert error_of(different, 409)["code"] == "idempotency_key_reused"
    fresh = ok(client.post("/v1/echo", {"order": "A-1"}, idempotency_key="key-2"))
    assert fresh["id"] != ok(first)["id"]
    bad = client.post("/v1/echo", {"order": "A-1"}, idempotency_key="has space")
    assert error_of(bad, 400)["code"] == "idempotency_key_invalid"


def test_idempotency_keys_belong_to_one_app(
    make_client: MakeClient, admin: httpx.Client, client: TongbaoClient, shop: dict[str, Any]
) -> None:
    other_app = create_app(admin, shop["merchant"]["id"])
    other = make_client(other_app["id"], other_app["secret"])
    ok(client.post("/v1/echo", {"n": 1}, idempotency_key="shared-key"))
    assert ok(other.post("/v1/echo", {"n": 2}, idempotency_key="shared-key"))["body"] == {"n": 2}


def test_oversized_body_is_refused(tongbao: Stack, client: TongbaoClient) -> None:
    limit = tongbao.container.settings.max_body_bytes
    response = client.post("/v1/echo", {"blob": "x" * limit})
    assert error_of(response, 413)["code"] == "payload_too_large"


def test_errors_after_authentication_are_signed_and_shaped(client: TongbaoClient) -> None:
    response = client.post("/v1/echo", ["not", "an", "object"])  # verified by the client
    assert error_of(response, 400)["code"] == "parameter_invalid"
    missing = client.get("/v1/nothing-here")
    assert error_of(missing, 404)["code"] == "not_found"


def test_an_app_sees_only_its_own_merchant(
    make_client: MakeClient, admin: httpx.Client, shop: dict[str, Any]
) -> None:
    other_merchant = create_merchant(admin)
    other_app = create_app(admin, other_merchant["id"])
    me = ok(make_client(other_app["id"], other_app["secret"]).get("/v1/me"))
    assert me["merchant"]["id"] == other_merchant["id"]
    assert me["merchant"]["can_take_payments"] is False  # still a draft
    # One app's secret cannot speak for another app, even of the same platform.
    borrowed = make_client(other_app["id"], shop["app"]["secret"])
    assert error_of(borrowed.get("/v1/me"), 401)["code"] == "signature_invalid"
