"""``/openapi.json`` tells a client every shape and every answer: typed bodies, each operation's
errors in the one error shape, and how each API is authenticated."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.support.stack import Stack

ERROR_REF = "#/components/schemas/ErrorResponse"
TYPED_KEYS = ("type", "$ref", "anyOf", "oneOf", "allOf", "const", "enum")


@pytest.fixture(scope="module")
def document(stack: Stack) -> dict[str, Any]:
    answer = httpx.get(f"{stack.url}/openapi.json", timeout=30)
    assert answer.status_code == 200
    return dict(answer.json())


def operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, items in document["paths"].items():
        for method, operation in items.items():
            yield path, method, operation


def api_operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, method, operation in operations(document):
        if path.startswith(("/v1/", "/admin/v1/")):
            yield path, method, operation


def untyped(schema: dict[str, Any], where: str, schemas: dict[str, Any]) -> Iterator[str]:
    """Paths of every property (or item, or value) inside ``schema`` that has no type."""
    if "$ref" in schema:
        return
    if not any(key in schema for key in TYPED_KEYS):
        yield where
        return
    for variant in (*schema.get("anyOf", ()), *schema.get("oneOf", ()), *schema.get("allOf", ())):
        yield from untyped(variant, where, schemas)
    for name, prop in schema.get("properties", {}).items():
        yield from untyped(prop, f"{where}.{name}", schemas)
    if isinstance(schema.get("items"), dict):
        yield from untyped(schema["items"], f"{where}[]", schemas)
    if isinstance(schema.get("additionalProperties"), dict):
        yield from untyped(schema["additionalProperties"], f"{where}{{}}", schemas)


def referenced(schema: dict[str, Any], schemas: dict[str, Any], seen: set[str]) -> set[str]:
    """The names of the component schemas that ``schema`` uses, directly or not."""
    for key, value in schema.items():
        if key == "$ref" and isinstance(value, str):
            name = value.rsplit("/", 1)[-1]
            if name not in seen:
                seen.add(name)
                referenced(schemas[name], schemas, seen)
        elif isinstance(value, dict):
            referenced(value, schemas, seen)
        elif isinstance(value, list):
            for item in value:
                if isinstance(item, dict):
                    referenced(item, schemas, seen)
    return seen


def test_every_operation_declares_its_errors_in_the_error_shape(document: dict[str, Any]) -> None:
    missing: list[str] = []
    for path, method, operation in api_operations(document):
        responses = operation["responses"]
        assert "422" not in responses, (method, path)  # validation failures are answered 400
        expected = {"401", "500"}
        if "requestBody" in operation or operation.get("parameters"):
            expected |= {"400"}
        if "requestBody" in operation:
            expected |= {"413"}
        if "{" in path:
            expected |= {"404"}
        for status in sorted(expected - set(responses)):
            missing.append(f"{method.upper()} {path}: {status}")
        for status, response in responses.items():
            if status.startswith(("4", "5")):
                schema = response["content"]["application/json"]["schema"]
                assert schema == {"$ref": ERROR_REF}, (method, path, status)
    assert missing == []
    error = document["components"]["schemas"]["ErrorResponse"]
    assert error["required"] == ["error"]
    detail = document["components"]["schemas"][error["properties"]["error"]["$ref"].rsplit("/", 1)[-1]]
    assert set(detail["required"]) == {"code", "message", "param", "request_id"}


def test_operations_that_can_be_refused_by_a_rule_or_a_channel_say_so(document: dict[str, Any]) -> None:
    paths = document["paths"]
    assert {"409", "502"} <= set(paths["/v1/payments/{payment_id}/close"]["post"]["responses"])
    assert "409" in paths["/v1/payments"]["post"]["responses"]
    assert "409" in paths["/v1/refunds"]["post"]["responses"]
    assert "409" in paths["/admin/v1/merchants/{merchant_id}/approve"]["post"]["responses"]
    assert "415" in paths["/admin/v1/merchants/{merchant_id}/documents"]["post"]["responses"]
    assert "503" in paths["/healthz"]["get"]["responses"]
    for path, method, operation in api_operations(document):
        if path.startswith("/v1/"):
            assert "403" in operation["responses"], (method, path)  # a disabled app, an address off its list


def test_no_request_or_response_property_is_untyped(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    used: set[str] = set()
    found: list[str] = []
    for path, method, operation in operations(document):
        bodies = [("request", operation.get("requestBody", {}))]
        bodies += [(status, response) for status, response in operation["responses"].items()]
        for label, body in bodies:
            for content in body.get("content", {}).values():
                schema = content.get("schema", {})
                found += untyped(schema, f"{method.upper()} {path} {label}", schemas)
                referenced(schema, schemas, used)
    for name in sorted(used):
        found += untyped(schemas[name], name, schemas)
    assert found == []
    payment = schemas["PaymentCreate"]["properties"]
    assert payment["amount"]["type"] == "integer"
    assert (payment["amount"]["minimum"], payment["amount"]["maximum"]) == (1, 100_000_000)
    assert payment["out_trade_no"]["pattern"] and payment["out_trade_no"]["maxLength"] == 64
    assert payment["metadata"]["anyOf"][0]["additionalProperties"]["type"] == "string"
    assert schemas["PaymentCreate"]["additionalProperties"] is False
    assert schemas["RefundCreate"]["properties"]["amount"]["type"] == "integer"


def test_security_schemes_exist_and_each_api_uses_its_own(document: dict[str, Any]) -> None:
    schemes = document["components"]["securitySchemes"]
    signature = schemes["TongbaoSignature"]
    assert (signature["type"], signature["in"], signature["name"]) == ("apiKey", "header", "Authorization")
    assert "TONGBAO-HMAC-SHA256" in signature["description"]
    assert (schemes["OperatorToken"]["type"], schemes["OperatorToken"]["scheme"]) == ("http", "bearer")
    for path, method, operation in api_operations(document):
        wanted = "TongbaoSignature" if path.startswith("/v1/") else "OperatorToken"
        assert operation.get("security") == [{wanted: []}], (method, path)
    for path, method, operation in operations(document):
        if not path.startswith(("/v1/", "/admin/v1/")):
            assert "security" not in operation, (method, path)
    created = document["paths"]["/v1/payments"]["post"]
    assert "Idempotency-Key" in [p["name"] for p in created["parameters"] if p["in"] == "header"]
    assert "Tongbao-Signature" in created["responses"]["201"]["headers"]
