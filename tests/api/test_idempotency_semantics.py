"""What docs/api.md promises of Idempotency-Key: one key space per app across endpoints, requests
compared on their exact bytes, a replay gives the first answer as it was, and a retry is a new
signed request (new nonce and timestamp) carrying the same key."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest
from fastapi import APIRouter

from tongbao.api.app import create_app
from tongbao.bootstrap import build_container
from tongbao.client import TongbaoClient, encode_json
from tongbao.container import Container
from tongbao.security.idempotency import request_fingerprint
from tongbao.security.master_key import MasterKey
from tongbao.security.models import IdempotencyRecord
from tongbao.security.secretbox import decode_master_key

from ..support.factories import error_of, ok
from ..support.live_server import LiveServer
from ..support.stack import Stack
from ..support.wechat import WeChatMerchant, sim_pay


def test_a_key_is_one_per_app_across_endpoints(shop: WeChatMerchant) -> None:
    ok(shop.client.post("/v1/echo", {"n": 1}, idempotency_key="k-shared"))
    again = shop.client.post(
        "/v1/payments",
        {"out_trade_no": "IDEM-2", "amount": 100, "subject": "Tea", "method": "wechat_native"},
        idempotency_key="k-shared",
    )
    assert error_of(again, 409)["code"] == "idempotency_key_reused"
    assert error_of(shop.client.get("/v1/payments", params={"out_trade_no": "IDEM-2"}), 404)["code"] == (
        "payment_not_found"
    )


def test_requests_are_compared_on_their_exact_bytes(tongbao: Stack, shop: WeChatMerchant) -> None:
    compact = b'{"order":"A-1","n":1}'
    spaced = b'{"order": "A-1", "n": 1}'
    reordered = b'{"n":1,"order":"A-1"}'
    first = _send(tongbao, shop, compact, "k-bytes")
    assert ok(_send(tongbao, shop, compact, "k-bytes")) == ok(first)
    for same_json in (spaced, reordered):
        assert error_of(_send(tongbao, shop, same_json, "k-bytes"), 409)["code"] == "idempotency_key_reused"


def _send(tongbao: Stack, shop: WeChatMerchant, body: bytes, key: str) -> httpx.Response:
    headers = {
        **shop.client.sign("POST", "/v1/echo", body),
        "Content-Type": "application/json",
        "Idempotency-Key": key,
    }
    response = httpx.post(f"{tongbao.url}/v1/echo", content=body, headers=headers, timeout=30)
    shop.client.verify_response(response)
    return response


def test_a_replay_is_the_first_answer_while_out_trade_no_gives_the_payment_now(
    tongbao: Stack, shop: WeChatMerchant
) -> None:
    body = {"out_trade_no": "IDEM-3", "amount": 300, "subject": "Tea", "method": "wechat_native"}
    first = shop.client.post("/v1/payments", body, idempotency_key="k-pay")
    assert first.status_code == 201 and first.json()["status"] == "pending"
    sim_pay(tongbao, code_url=first.json()["action"]["code_url"])
    tongbao.wechatpay_wait()
    assert shop.payment(first.json()["id"])["status"] == "succeeded"

    replay = shop.client.post("/v1/payments", body, idempotency_key="k-pay")
    assert replay.status_code == 201 and replay.headers["idempotent-replayed"] == "true"
    assert replay.content == first.content  # the snapshot: still pending

    live = shop.client.post("/v1/payments", body, idempotency_key="k-pay-2")
    assert live.status_code == 200 and "idempotent-replayed" not in live.headers
    assert live.json()["status"] == "succeeded"
    assert live.json()["id"] == first.json()["id"]


def test_a_retry_signs_anew_but_keeps_the_key(tongbao: Stack, shop: WeChatMerchant) -> None:
    body = encode_json({"order": "A-2"})
    headers = {
        **shop.client.sign("POST", "/v1/echo", body),
        "Content-Type": "application/json",
        "Idempotency-Key": "k-retry",
    }
    first = httpx.post(f"{tongbao.url}/v1/echo", content=body, headers=headers, timeout=30)
    ok(first)
    # The same bytes again, nonce and all: refused at the door before the key is looked at.
    resent = httpx.post(f"{tongbao.url}/v1/echo", content=body, headers=headers, timeout=30)
    assert error_of(resent, 401)["code"] == "replayed_request"
    assert "tongbao-signature" not in resent.headers
    # Signed again (new nonce, new timestamp), same key: the first answer.
    retried = _send(tongbao, shop, body, "k-retry")
    assert retried.headers["idempotent-replayed"] == "true"
    assert ok(retried) == ok(first)


def test_an_error_answer_is_kept_and_replayed_like_any_other(shop: WeChatMerchant) -> None:
    bad = {"out_trade_no": "IDEM-4", "amount": 0, "subject": "Tea", "method": "wechat_native"}
    first = shop.client.post("/v1/payments", bad, idempotency_key="k-bad")
    assert error_of(first, 400)["code"] == "amount_invalid"
    again = shop.client.post("/v1/payments", bad, idempotency_key="k-bad")
    assert again.headers["idempotent-replayed"] == "true" and again.content == first.content


@pytest.fixture
def failing_server(tongbao: Stack) -> Iterator[str]:
    """This Tongbao (same database and keys) served with one extra merchant endpoint that fails
    unexpectedly, as a bug in an endpoint would."""
    broken = APIRouter()

    @broken.post("/v1/echo-broken")
    async def echo_broken() -> None:
        raise RuntimeError("an endpoint that fails unexpectedly")

    container = build_container(
        tongbao.container.settings,
        MasterKey(decode_master_key(tongbao.master_key_text), "environment"),
        clock=tongbao.clock,
    )
    server = LiveServer(create_app(container, own_container=True, routers=[broken])).start()
    yield server.url
    server.stop()


def test_an_unexpected_failure_is_a_signed_500_and_frees_the_key(
    failing_server: str, shop: WeChatMerchant
) -> None:
    client = TongbaoClient(failing_server, shop.app_id, shop.app_secret, timeout_s=30)
    try:
        failed = client.post("/v1/echo-broken", {"n": 1}, idempotency_key="k-500")  # signed
        error = error_of(failed, 500)
        assert error["code"] == "internal_error"
        assert error["request_id"] == failed.headers["tongbao-request-id"]
        retried = client.post("/v1/echo-broken", {"n": 1}, idempotency_key="k-500")
        assert error_of(retried, 500)["code"] == "internal_error"  # ran again, not "in progress"
        assert "idempotent-replayed" not in retried.headers
    finally:
        client.close()


async def _left_by_a_crash(c: Container, app_id: str, key: str, path: str, body: bytes) -> None:
    """The record a process leaves when it is killed between taking a key and answering."""
    now = c.clock.now()
    async with c.uow() as tx:
        tx.add(
            IdempotencyRecord(
                app_id=app_id,
                key=key,
                request_sha256=request_fingerprint("POST", path, body),
                status_code=None,
                response_body=None,
                created_at=now,
                expires_at=now + timedelta(seconds=c.settings.idempotency_ttl_s),
            )
        )
        await tx.commit()


def test_a_key_left_in_progress_by_a_killed_process_is_taken_over_by_a_retry(
    tongbao: Stack, shop: WeChatMerchant
) -> None:
    body = {"out_trade_no": "IDEM-CRASH", "amount": 700, "subject": "Tea", "method": "wechat_native"}
    tongbao.server.run(
        _left_by_a_crash(tongbao.container, shop.app_id, "k-crash", "/v1/payments", encode_json(body))
    )
    soon = shop.client.post("/v1/payments", body, idempotency_key="k-crash")
    assert error_of(soon, 409)["code"] == "idempotency_request_in_progress"  # it may still be running

    tongbao.clock.advance(tongbao.container.settings.idempotency_in_progress_s + 1)
    other = {**body, "amount": 701}
    reused = shop.client.post("/v1/payments", other, idempotency_key="k-crash")
    assert error_of(reused, 409)["code"] == "idempotency_key_reused"  # only the same request takes it
    taken = shop.client.post("/v1/payments", body, idempotency_key="k-crash")
    assert taken.status_code == 201 and "idempotent-replayed" not in taken.headers
    replay = shop.client.post("/v1/payments", body, idempotency_key="k-crash")
    assert replay.headers["idempotent-replayed"] == "true" and replay.content == taken.content
