"""``gateway.do``: every OpenAPI method behind one URL, parameters in the query string or a form body.

Server-to-server methods answer ``{"<method>_response": {...}, "sign": "…"}`` signed with the
simulator's key; the payer-facing methods (page, wap, app pay) show the payer page instead. Faults
apply per endpoint name: "create" (precreate), "pay" (barcode), "query", "close", "cancel", "refund"
(alipay.trade.refund) and "refund_query" (alipay.trade.fastpay.refund.query); see ``gateway_refunds``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from tongbao.channels.alipay import protocol

from ..applying import apply_faults
from ..base.wire import mount_prefix
from ..faults import FaultKind, Faults
from . import gateway_refunds, pages
from .gateway_errors import AlipayError, invalid, missing, success, unavailable
from .state import AlipaySimulator
from .state_models import App

PAYER_METHODS: Final = ("alipay.trade.page.pay", "alipay.trade.wap.pay", "alipay.trade.app.pay")
_REQUIRED: Final = ("app_id", "method", "charset", "sign_type", "sign", "timestamp", "version")


@dataclass(frozen=True)
class Call:
    sim: AlipaySimulator
    request: Request
    app: App
    params: dict[str, str]
    biz: dict[str, Any]
    faults: Faults


Handler = Callable[[Call], dict[str, Any]]


def respond(sim: AlipaySimulator, method: str | None, node: dict[str, Any], status: int = 200) -> Response:
    name = protocol.response_node(method) if method in HANDLERS else "error_response"
    body = protocol.response_body(sim.key, name, node)
    return Response(body, status_code=status, media_type="application/json;charset=utf-8")


def precreate(call: Call) -> dict[str, Any]:
    trade = call.sim.open_trade(call.app, "alipay.trade.precreate", call.biz, call.params)
    return success(out_trade_no=trade.out_trade_no, qr_code=trade.qr_code)


def barcode(call: Call) -> dict[str, Any]:
    if call.biz.get("scene", "bar_code") != "bar_code":
        raise invalid("isv.invalid-parameter", "scene 只支持 bar_code")
    auth_code = call.sim.check_auth_code(call.biz.get("auth_code"))
    trade = call.sim.open_trade(call.app, "alipay.trade.pay", call.biz, call.params)
    processing = call.faults.get(FaultKind.PROCESSING)
    trade = call.sim.barcode(trade, auth_code, processing.param("polls") if processing else 0)
    fields = {
        "trade_no": trade.trade_no,
        "out_trade_no": trade.out_trade_no,
        "buyer_logon_id": "159****5620",
        "total_amount": trade.amount_text(),
    }
    if trade.status == "TRADE_SUCCESS" and trade.gmt_payment is not None:
        return success(
            **fields,
            receipt_amount=trade.amount_text(),
            gmt_payment=protocol.format_time(trade.gmt_payment),
            buyer_user_id=trade.buyer_id,
        )
    if trade.status == "WAIT_BUYER_PAY":
        return {"code": protocol.CODE_WAITING, "msg": "order success pay inprocess", **fields}
    raise AlipayError(protocol.CODE_BUSINESS, "Business Failed", "ACQ.TRADE_HAS_CLOSE", "交易已经关闭")


def query(call: Call) -> dict[str, Any]:
    trade = call.sim.query(call.sim.trade(call.app.app_id, call.biz))
    wrong = call.faults.get(FaultKind.WRONG_AMOUNT)
    return success(**trade.details(wrong.param("delta") if wrong else 0))


def close(call: Call) -> dict[str, Any]:
    trade = call.sim.close(call.sim.trade(call.app.app_id, call.biz))
    return success(trade_no=trade.trade_no, out_trade_no=trade.out_trade_no)


def cancel(call: Call) -> dict[str, Any]:
    trade = call.sim.cancel(call.sim.trade(call.app.app_id, call.biz))
    return success(
        trade_no=trade.trade_no, out_trade_no=trade.out_trade_no, retry_flag="N", action=trade.cancel_action
    )


HANDLERS: Final[dict[str, tuple[str, Handler]]] = {
    "alipay.trade.precreate": ("create", precreate),
    "alipay.trade.pay": ("pay", barcode),
    "alipay.trade.query": ("query", query),
    "alipay.trade.close": ("close", close),
    "alipay.trade.cancel": ("cancel", cancel),
    "alipay.trade.refund": ("refund", gateway_refunds.refund),
    "alipay.trade.fastpay.refund.query": ("refund_query", gateway_refunds.refund_query),
}


async def read_params(request: Request) -> dict[str, str]:
    """The query string and the form body together (the body wins a clash), decoded as UTF-8."""
    params = dict(parse_qsl(request.url.query, keep_blank_values=True))
    if request.method == "POST":
        body = await request.body()
        try:
            params.update(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
        except UnicodeDecodeError as exc:
            raise invalid("isv.invalid-charset", "字符集错误") from exc
    return params


def authenticate(sim: AlipaySimulator, params: dict[str, str]) -> tuple[App, dict[str, Any]]:
    for name in _REQUIRED:
        if not params.get(name):
            raise missing(name.replace("_", "-"))
    app = sim.apps.get(params["app_id"])
    if app is None:
        raise invalid("isv.invalid-app-id", "无效的AppID参数")
    if params["sign_type"] != protocol.SIGN_TYPE:
        raise invalid("isv.invalid-signature-type", "无效的签名类型")
    if params["charset"].lower() != protocol.CHARSET:
        raise invalid("isv.invalid-charset", "字符集错误")
    if not protocol.verify_params(app.public_key, params):
        raise invalid("isv.invalid-signature", "验签出错")
    try:
        protocol.parse_time(params["timestamp"])
    except ValueError as exc:
        raise invalid("isv.invalid-timestamp", "非法的时间戳参数") from exc
    if params["method"] not in HANDLERS and params["method"] not in PAYER_METHODS:
        raise invalid("isv.invalid-method", "不存在的方法名")
    return app, _biz_content(params)


def _biz_content(params: dict[str, str]) -> dict[str, Any]:
    try:
        biz = json.loads(params.get("biz_content") or "{}")
    except ValueError as exc:
        raise invalid("isv.invalid-parameter", "biz_content 不是 JSON") from exc
    if not isinstance(biz, dict):
        raise invalid("isv.invalid-parameter", "biz_content 不是 JSON 对象")
    return biz


async def _apply(call: Call, handler: Handler) -> dict[str, Any]:
    node = await apply_faults(call.sim, call.request, call.faults, lambda: handler(call), unavailable_500)
    if call.faults.get(FaultKind.SYSTEM_ERROR) is not None:
        raise unavailable()  # applied, but the answer says the service is unavailable
    return node


def unavailable_500() -> AlipayError:
    return unavailable(500)


def gateway_routes(sim: AlipaySimulator) -> list[Route]:
    async def route(request: Request) -> Response:
        params: dict[str, str] = {}
        try:
            params = await read_params(request)
            app, biz = authenticate(sim, params)
            method = params["method"]
            if method in PAYER_METHODS:
                return payer_visit(sim, request, app, params, biz)
            endpoint, handler = HANDLERS[method]
            call = Call(sim, request, app, params, biz, sim.faults.next(endpoint))
            return respond(sim, method, await _apply(call, handler))
        except AlipayError as exc:
            if params.get("method") in PAYER_METHODS:
                return HTMLResponse(
                    pages.error_page(exc.sub_msg or exc.msg, mount_prefix(request.scope)), 400
                )
            return respond(sim, params.get("method"), exc.node(), exc.http_status)

    return [Route("/gateway.do", route, methods=["GET", "POST"])]


def payer_visit(
    sim: AlipaySimulator, request: Request, app: App, params: dict[str, str], biz: dict[str, Any]
) -> Response:
    """A payer's browser (or wallet) arrives with a signed page/wap/app pay request: the cashier."""
    method = params["method"]
    trade = sim.open_trade(app, method, biz, params)
    return HTMLResponse(pages.trade_page(trade, mount_prefix(request.scope)))
