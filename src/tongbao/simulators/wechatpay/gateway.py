"""The WeChat Pay API v3 routes: create, query, close, refund, refund query, platform certificates.

Every request is authenticated by its ``Authorization`` header and every answer, errors included, is
signed by the platform key. Faults from the plan are applied here, per endpoint name: "create",
"query", "close", "refund", "refund_query", "certificates". "refund" also takes the refund faults:
"processing" (the new refund stays PROCESSING for ``polls`` queries) and "abnormal" (it ends ABNORMAL).
"""

from __future__ import annotations

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

from ..applying import apply_faults
from ..base.wire import channel_path, mount_prefix
from ..faults import FaultKind, Faults
from .gateway_auth import authenticate, claimed_mchid
from .gateway_errors import WeChatApiError, param_error, system_error
from .gateway_validation import json_object, parse_create, parse_refund, text
from .gateway_wire import signed_response
from .state import WeChatPaySimulator
from .state_models import TRADE_TYPES, Merchant


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


async def _apply(call: Call, handler: Handler) -> tuple[int, Any]:
    result = await apply_faults(call.sim, call.request, call.faults, lambda: handler(call), system_error)
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


def refund(call: Call) -> tuple[int, Any]:
    processing = call.faults.get(FaultKind.PROCESSING)
    applied = call.sim.apply_refund(
        call.merchant,
        parse_refund(call.body),
        polls=processing.param("polls") if processing else 0,
        abnormal=call.faults.get(FaultKind.ABNORMAL) is not None,
    )
    return 200, applied.resource()


def query_refund(call: Call) -> tuple[int, Any]:
    found = call.sim.refunds.query(call.merchant.mchid, call.request.path_params["out_refund_no"])
    return 200, found.resource()


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


def gateway_routes(sim: WeChatPaySimulator) -> list[Route]:
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
        Route("/v3/refund/domestic/refunds", v3(sim, "refund", refund), methods=["POST"]),
        Route(
            "/v3/refund/domestic/refunds/{out_refund_no}",
            v3(sim, "refund_query", query_refund),
            methods=["GET"],
        ),
        Route("/v3/certificates", v3(sim, "certificates", certificates), methods=["GET"]),
    ]
