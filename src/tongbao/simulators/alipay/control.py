"""The control API (``/_control/…``, JSON, no auth) and the payer page: a test or a person acts as the
payer, inspects trades and their refunds, settles a processing refund and injects faults."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlencode

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from tongbao.channels.alipay import protocol

from ..control import ControlError, check_fields, faults_handler, json_route, read_json
from . import payer_page, refunds
from .gateway import gateway_route, mount_prefix
from .models import Trade
from .state import AlipaySimulator

_MERCHANT_FIELDS = ("app_id", "public_key_pem")


def return_url(sim: AlipaySimulator, trade: Trade) -> str:
    """Where the payer's browser goes after paying: the merchant's return_url with Alipay's signed
    synchronous-return parameters."""
    params = protocol.signed(
        sim.key,
        {
            "app_id": trade.app_id,
            "auth_app_id": trade.app_id,
            "method": trade.method + ".return",
            "charset": protocol.CHARSET,
            "version": protocol.VERSION,
            "sign_type": protocol.SIGN_TYPE,
            "timestamp": protocol.format_time(sim.clock.now()),
            "out_trade_no": trade.out_trade_no,
            "trade_no": trade.trade_no,
            "total_amount": trade.amount_text(),
            "seller_id": trade.seller_id,
        },
        notification=True,
    )
    separator = "&" if "?" in trade.return_url else "?"
    return trade.return_url + separator + urlencode(params)


def control_routes(sim: AlipaySimulator) -> list[Route]:
    async def merchants(request: Request) -> Any:
        data = await read_json(request)
        check_fields(data, _MERCHANT_FIELDS)
        return sim.register_merchant(data["app_id"], data["public_key_pem"])

    async def pay(request: Request) -> Any:
        data = await read_json(request)
        return sim.pay(sim.find_trade(data), amount=data.get("amount")).record()

    async def cancel(request: Request) -> Any:
        return sim.decline(sim.find_trade(await read_json(request))).record()

    async def settle_refund(request: Request) -> Any:
        return refunds.settle(sim, await read_json(request)).record()

    async def trade(request: Request) -> Any:
        selector = {
            "out_trade_no": request.path_params["out_trade_no"],
            "app_id": request.query_params.get("app_id"),
        }
        return sim.find_trade(selector).record()

    return [
        Route("/gateway.do", gateway_route(sim), methods=["GET", "POST"]),
        Route("/_control/merchants", json_route(merchants), methods=["POST"]),
        Route("/_control/pay", json_route(pay), methods=["POST"]),
        Route("/_control/cancel", json_route(cancel), methods=["POST"]),
        Route("/_control/orders/{out_trade_no}", json_route(trade), methods=["GET"]),
        Route("/_control/refunds/settle", json_route(settle_refund), methods=["POST"]),
        Route("/_control/faults", json_route(faults_handler(sim.faults)), methods=["GET", "PUT", "DELETE"]),
        *payer_routes(sim),
    ]


def payer_routes(sim: AlipaySimulator) -> list[Route]:
    def selector(pairs: dict[str, str]) -> dict[str, str]:
        return {name: pairs[name] for name in ("out_trade_no", "qr_code", "app_id") if pairs.get(name)}

    async def show(request: Request) -> Response:
        prefix = mount_prefix(request)
        chosen = selector(dict(request.query_params))
        if not chosen:
            return HTMLResponse(payer_page.lookup_page(prefix))
        try:
            found = sim.find_trade(chosen)
        except ControlError as exc:
            return HTMLResponse(payer_page.lookup_page(prefix, exc.message), status_code=exc.status)
        return HTMLResponse(payer_page.trade_page(found, prefix))

    async def pay(request: Request) -> Response:
        prefix = mount_prefix(request)
        form = dict(parse_qsl((await request.body()).decode("utf-8", "replace")))
        try:
            found = sim.find_trade(selector(form))
        except ControlError as exc:
            return HTMLResponse(payer_page.error_page(exc.message, prefix), status_code=exc.status)
        try:
            sim.pay(found)
        except ControlError as exc:
            return HTMLResponse(payer_page.trade_page(found, prefix, exc.message), status_code=exc.status)
        if found.return_url:
            return RedirectResponse(return_url(sim, found), status_code=303)
        return HTMLResponse(payer_page.paid_page(found))

    return [
        Route("/_control/payer", show, methods=["GET"]),
        Route("/_control/payer/pay", pay, methods=["POST"]),
    ]
