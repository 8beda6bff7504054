"""The unauthenticated surface: health, the OpenAPI document, and the error shape everywhere."""

from __future__ import annotations

import httpx

from ..support.factories import error_of


def test_healthz_answers_without_authentication(anonymous: httpx.Client) -> None:
    response = anonymous.get("/healthz")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"
    assert response.json()["database"] == "ok"
    assert response.headers["tongbao-request-id"].startswith("req_")


def test_openapi_and_docs_are_served(anonymous: httpx.Client) -> None:
    spec = anonymous.get("/openapi.json").json()
    assert "/v1/me" in spec["paths"]
    assert "/admin/v1/merchants" in spec["paths"]
    operation_ids = [op["operationId"] for path in spec["paths"].values() for op in path.values()]
    assert "get_me" in operation_ids and len(operation_ids) == len(set(operation_ids))
    docs = anonymous.get("/docs")
    assert docs.status_code == 200 and "swagger" in docs.text.lower()


def test_unknown_route_uses_the_error_shape(anonymous: httpx.Client) -> None:
    response = anonymous.get("/admin/v1/nothing-here")
    error = error_of(response, 404)
    assert error["code"] == "not_found"
    assert error["request_id"] == response.headers["tongbao-request-id"]


def test_admin_api_needs_an_operator_token(anonymous: httpx.Client) -> None:
    assert error_of(anonymous.get("/admin/v1/merchants"), 401)["code"] == "operator_unauthorized"
    wrong = anonymous.get("/admin/v1/merchants", headers={"Authorization": "Bearer tbo_not-a-real-token"})
    assert error_of(wrong, 401)["code"] == "operator_unauthorized"
    basic = anonymous.get("/admin/v1/merchants", headers={"Authorization": "Basic dXNlcjpwYXNz"})
    assert error_of(basic, 401)["code"] == "operator_unauthorized"


def test_malformed_json_body_is_a_clear_400(admin: httpx.Client) -> None:
    response = admin.post(
        "/admin/v1/merchants", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert error_of(response, 400)["code"] == "body_invalid_json"
    assert admin.get("/admin/v1/merchants").json()["data"] == []
