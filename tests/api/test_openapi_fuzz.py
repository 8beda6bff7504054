"""Every operation of ``/v1`` and ``/admin/v1``, driven from the OpenAPI document with generated
input against the running Tongbao: no 5xx, only documented statuses, and answers of the documented
shape. A bounded, derandomized number of examples per operation keeps it quick and repeatable."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from tests.support.stack import ADMIN_TOKEN, Stack
from tests.support.wechat import wechat_merchant
from tongbao.client import TongbaoClient

EXAMPLES_PER_OPERATION = 6  # per operation and mode (valid input, invalid input)
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


class SignedAuth(requests.auth.AuthBase):
    """Signs each request as it goes out, over the exact path, query and body bytes sent; the
    operator API gets the operator's bearer token instead."""

    def __init__(self, signer: TongbaoClient) -> None:
        self.signer = signer

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        path_and_query = request.path_url
        if path_and_query.startswith("/v1/"):
            body = request.body or b""
            raw = body.encode() if isinstance(body, str) else bytes(body)
            request.headers.update(self.signer.sign(str(request.method), path_and_query, raw))
        else:
            request.headers["Authorization"] = f"Bearer {ADMIN_TOKEN}"
        return request


@dataclass
class Target:
    stack: Stack
    session: requests.Session


@pytest.fixture
def target(tongbao: Stack, admin: httpx.Client) -> Iterator[Target]:
    """A merchant with a WeChat Pay account, whose app signs every request of the session."""
    shop = wechat_merchant(tongbao, admin)
    session = requests.Session()
    session.auth = SignedAuth(shop.client)
    try:
        yield Target(tongbao, session)
    finally:
        session.close()
        shop.client.close()


def operations(stack: Stack) -> list[Any]:
    document = httpx.get(f"{stack.url}/openapi.json", timeout=30).json()
    schema = schemathesis.openapi.from_dict(document).include(path_regex=r"^/(v1|admin/v1)/")
    return [result.ok() for result in schema.get_all_operations()]


def failures_of(operation: Any, mode: GenerationMode, target: Target) -> list[str]:
    """What went wrong for one operation, as one line per failing example (none: all is well)."""
    found: list[str] = []

    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        derandomize=True,
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate],  # report the example as found: shrinking is slow
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case: Any) -> None:
        response = case.call(base_url=target.stack.url, session=target.session, timeout=30)
        try:
            case.validate_response(response, checks=CHECKS)
        except Exception as exc:  # a group of every check that failed, or one of them
            found.append(f"{case.method} {case.formatted_path} ({mode.value}): {str(exc)[:600]}")

    run()
    return found


def test_every_operation_answers_as_documented(target: Target) -> None:
    found: list[str] = []
    driven = operations(target.stack)
    assert {op.path.split("/")[1] for op in driven} == {"v1", "admin"} and len(driven) > 50
    for operation in driven:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            found += failures_of(operation, mode, target)
    assert found == [], "\n\n".join(found)
