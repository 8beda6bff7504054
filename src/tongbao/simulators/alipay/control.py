"""The control API (``/_control/…``, JSON, no auth): a test or a person acts as the payer, inspects
trades and their refunds, settles a processing refund and injects faults."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.routing import Route

from ..base.control import callbacks_handler, check_fields, faults_handler, json_route, read_json
from . import state_refunds
from .state import AlipaySimulator

_MERCHANT_FIELDS = ("app_id", "public_key_pem")


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
        return state_refunds.settle(sim, await read_json(request)).record()

    async def trade(request: Request) -> Any:
        selector = {
            "out_trade_no": request.path_params["out_trade_no"],
            "app_id": request.query_params.get("app_id"),
        }
        return sim.find_trade(selector).record()

    return [
        Route("/_control/merchants", json_route(merchants), methods=["POST"]),
        Route("/_control/pay", json_route(pay), methods=["POST"]),
        Route("/_control/cancel", json_route(cancel), methods=["POST"]),
        Route("/_control/orders/{out_trade_no}", json_route(trade), methods=["GET"]),
        Route("/_control/refunds/settle", json_route(settle_refund), methods=["POST"]),
        Route("/_control/faults", json_route(faults_handler(sim.faults)), methods=["GET", "PUT", "DELETE"]),
        Route("/_control/callbacks", json_route(callbacks_handler(sim.notifier)), methods=["GET"]),
    ]
