"""Bodies streamed without a Content-Length are held to the same limits, with the same answer:
413 ``payload_too_large``, as a Content-Length over the limit gets."""

from __future__ import annotations

from collections.abc import Iterator

import httpx

from tongbao.client import TongbaoClient

from ..support.factories import create_merchant, error_of, ok, sample_file
from ..support.stack import ADMIN_TOKEN, Stack
from ..support.wechat import WeChatMerchant

CHUNK = 64 * 1024
OPERATOR = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


def chunks(data: bytes) -> Iterator[bytes]:
    """A generator body: httpx sends it chunked, with no Content-Length."""
    for start in range(0, len(data), CHUNK):
        yield data[start : start + CHUNK]


def streamed(tongbao: Stack, method: str, path: str, data: bytes, headers: dict[str, str]) -> httpx.Response:
    response = httpx.request(method, tongbao.url + path, content=chunks(data), headers=headers, timeout=30)
    assert "content-length" not in response.request.headers
    return response


def too_large(response: httpx.Response, limit: int) -> None:
    error = error_of(response, 413)
    assert (error["code"], error["message"]) == (
        "payload_too_large",
        f"the body is over the {limit}-byte limit",
    )
    assert error["request_id"] == response.headers["tongbao-request-id"]


def multipart(kind: str, filename: str, content: bytes, content_type: str) -> tuple[bytes, str]:
    boundary = "tongbao-test-boundary"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="kind"\r\n\r\n{kind}\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
            f"Content-Type: {content_type}\r\n\r\n"
        ).encode()
        + content
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return body, f"multipart/form-data; boundary={boundary}"


def test_a_streamed_json_body_over_the_limit(tongbao: Stack, admin: httpx.Client) -> None:
    limit = tongbao.container.settings.max_body_bytes
    data = b'{"name": "Big", "legal_name": "' + b"x" * limit + b'"}'
    headers = {**OPERATOR, "Content-Type": "application/json"}
    too_large(streamed(tongbao, "POST", "/admin/v1/merchants", data, headers), limit)
    # The same body with a Content-Length is answered the same way.
    too_large(
        admin.post("/admin/v1/merchants", content=data, headers={"Content-Type": "application/json"}), limit
    )
    assert ok(admin.get("/admin/v1/merchants"))["data"] == []


def test_a_streamed_json_body_under_the_limit_is_served(tongbao: Stack, admin: httpx.Client) -> None:
    data = b'{"name": "Small", "legal_name": "Small Co., Ltd."}'
    created = streamed(
        tongbao, "POST", "/admin/v1/merchants", data, {**OPERATOR, "Content-Type": "application/json"}
    )
    assert ok(created, 201)["name"] == "Small"


def test_a_streamed_upload_over_the_limit(tongbao: Stack, admin: httpx.Client) -> None:
    limit = tongbao.container.settings.document_max_bytes + 64 * 1024
    merchant = create_merchant(admin)
    content = b"%PDF-1.4\n" + b"0" * limit
    data, content_type = multipart("business_license", "scan.pdf", content, "application/pdf")
    path = f"/admin/v1/merchants/{merchant['id']}/documents"
    too_large(streamed(tongbao, "POST", path, data, {**OPERATOR, "Content-Type": content_type}), limit)
    assert ok(admin.get(path)) == []


def test_a_streamed_upload_under_the_limit_is_stored(tongbao: Stack, admin: httpx.Client) -> None:
    merchant = create_merchant(admin)
    pdf = sample_file("application/pdf", "a licence")
    data, content_type = multipart("business_license", "scan.pdf", pdf, "application/pdf")
    path = f"/admin/v1/merchants/{merchant['id']}/documents"
    stored = ok(streamed(tongbao, "POST", path, data, {**OPERATOR, "Content-Type": content_type}), 201)
    assert stored["size_bytes"] == len(pdf)


def test_a_streamed_signed_body_over_the_limit(tongbao: Stack, shop: WeChatMerchant) -> None:
    limit = tongbao.container.settings.max_body_bytes
    data = b'{"blob": "' + b"x" * limit + b'"}'
    client: TongbaoClient = shop.client
    headers = {**client.sign("POST", "/v1/echo", data), "Content-Type": "application/json"}
    too_large(streamed(tongbao, "POST", "/v1/echo", data, headers), limit)
