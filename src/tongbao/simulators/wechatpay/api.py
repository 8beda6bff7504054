"""The WeChat Pay API v3 routes: create, query, close, platform certificates.

Every request is authenticated by its ``Authorization`` header and every answer, errors included, is
signed by the platform key. Faults from the plan are applied here, per endpoint name: "create",
"query", "close", "certificates".
"""

from __future__ import annotations

import asyncio
import secrets
import string
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tongbao.channels.wechatpay import protocol

from ..faults import FaultKind, Faults
from .auth import authenticate, claimed_mchid
from .errors import WeChatApiError, param_error, system_error
from .models import TRADE_TYPES, Merchant
from .state import WeChatPaySimulator
from .validation import json_object, parse_create, text
from .wire import channel_path, mount_prefix, signed_response


@dataclass(frozen=True)
class Call:
    """One authenticated v3 request, as the handlers see it."""

    sim: WeChatPaySimulator
    request: Request
    merchant: Merchant
    body: bytes
    faults: Faults


Handler = Callable[[Call], tuple[int, Any]]


def respond(sim: WeChatPaySimulator, serial: str, status: int, data: Any | None) -> Response:
    return signed_response(sim.platform, serial, int(sim.clock.now().timestamp()), status, data)


def default_serial(sim: WeChatPaySimulator, authorization: str | None) -> str:
    """The serial to sign with before the caller is verified: the one its claimed mchid knows."""
    merchant = sim.merchants.get(claimed_mchid(authorization) or "")
    return merchant.platform_serial(sim.platform) if merchant else sim.platform.public_key_id


async def _stall(call: Call, seconds: float) -> None:
    # Stop early once the caller has hung up or the simulator closes, so servers shut down promptly.
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while (left := deadline - loop.time()) > 0:
        if await call.request.is_disconnected() or await call.sim.stall(min(0.05, left)):
            return


async def _apply(call: Call, handler: Handler) -> tuple[int, Any]:
    latency = call.faults.get(FaultKind.LATENCY)
    if latency is not None:
        await asyncio.sleep(latency.param("latency_ms") / 1000)
    if call.faults.get(FaultKind.ERROR_5XX) is not None:
        raise system_error()
    timeout = call.faults.get(FaultKind.TIMEOUT)
    if timeout is not None and timeout.param("before"):
        await _stall(call, timeout.param("hang_s"))
    try:
        result = handler(call)
    finally:
        # Applied (or refused), then the answer is late: the caller times out not knowing which.
        if timeout is not None and not timeout.param("before"):
            await _stall(call, timeout.param("hang_s"))
    if call.faults.get(FaultKind.SYSTEM_ERROR) is not None:
        raise system_error()
    return result


def v3(sim: WeChatPaySimulator, endpoint: str, handler: Handler) -> Callable[[Request], Any]:
    async def route(request: Request) -> Response:
        body = await request.body()
        authorization = request.headers.get("authorization")
        serial = default_serial(sim, authorization)
        try:
            merchant = authenticate(
                sim.merchants,
                authorization,
                method=request.method,
                url=channel_path(request.scope),
                body=body,
                now=sim.clock.now(),
            )
            serial = merchant.platform_serial(sim.platform)
            call = Call(sim, request, merchant, body, sim.faults.next(endpoint))
            status, data = await _apply(call, handler)
        except WeChatApiError as exc:
            status, data = exc.status, exc.body()
        return respond(sim, serial, status, data)

    return route


def _payer_page_url(request: Request, prepay_id: str) -> str:
    origin = f"{request.url.scheme}://{request.url.netloc}"
    return f"{origin}{mount_prefix(request.scope)}/_control/payer?prepay_id={quote(prepay_id)}"


def _create(kind: str) -> Handler:
    def create(call: Call) -> tuple[int, Any]:
        order_request = parse_create(kind, call.body)
        answer = call.sim.create_order(
            call.merchant, order_request, lambda prepay_id: _payer_page_url(call.request, prepay_id)
        )
        return 200, answer

    return create


def _query_mchid(call: Call) -> str:
    mchid = text(dict(call.request.query_params), "mchid", location="query")
    if mchid != call.merchant.mchid:
        raise param_error("/mchid", "与请求签名中的商户号不一致", mchid, "query")
    return mchid


def query_by_out_trade_no(call: Call) -> tuple[int, Any]:
    order = call.sim.order(_query_mchid(call), call.request.path_params["out_trade_no"])
    wrong = call.faults.get(FaultKind.WRONG_AMOUNT)
    return 200, order.transaction(wrong.param("delta") if wrong else 0)


def query_by_transaction_id(call: Call) -> tuple[int, Any]:
    order = call.sim.order_by_transaction_id(_query_mchid(call), call.request.path_params["transaction_id"])
    wrong = call.faults.get(FaultKind.WRONG_AMOUNT)
    return 200, order.transaction(wrong.param("delta") if wrong else 0)


def close(call: Call) -> tuple[int, Any]:
    mchid = text(json_object(call.body), "mchid")
    if mchid != call.merchant.mchid:
        raise param_error("/mchid", "与请求签名中的商户号不一致", mchid)
    call.sim.close_order(mchid, call.request.path_params["out_trade_no"])
    return 204, None


def certificates(call: Call) -> tuple[int, Any]:
    platform = call.sim.platform
    nonce = "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(12))
    sealed = protocol.encrypt(
        call.merchant.apiv3_key, nonce, "certificate", platform.certificate_pem.encode()
    )
    return 200, {
        "data": [
            {
                "serial_no": platform.serial,
                "effective_time": protocol.rfc3339(platform.effective_time),
                "expire_time": protocol.rfc3339(platform.expire_time),
                "encrypt_certificate": {
                    "algorithm": protocol.AEAD_ALGORITHM,
                    "nonce": nonce,
                    "associated_data": "certificate",
                    "ciphertext": sealed,
                },
            }
        ]
    }


def v3_routes(sim: WeChatPaySimulator) -> list[Route]:
    prefix = "/v3/pay/transactions"
    routes = [
        Route(f"{prefix}/{kind}", v3(sim, "create", _create(kind)), methods=["POST"]) for kind in TRADE_TYPES
    ]
    return [
        *routes,
        Route(
            f"{prefix}/out-trade-no/{{out_trade_no}}",
            v3(sim, "query", query_by_out_trade_no),
            methods=["GET"],
        ),
        Route(f"{prefix}/id/{{transaction_id}}", v3(sim, "query", query_by_transaction_id), methods=["GET"]),
        Route(f"{prefix}/out-trade-no/{{out_trade_no}}/close", v3(sim, "close", close), methods=["POST"]),
        Route("/v3/certificates", v3(sim, "certificates", certificates), methods=["GET"]),
    ]
