"""The control API (``/_control/…``, JSON, no auth): a test or a person acts as the payer, inspects
orders and their refunds, finishes a processing refund and injects faults."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.routing import Route

from ..base.control import (
    ControlError,
    callbacks_handler,
    check_fields,
    faults_handler,
    json_route,
    read_json,
)
from .state import WeChatPaySimulator

_MERCHANT_FIELDS = ("mchid", "appid", "serial_no", "public_key_pem", "apiv3_key", "platform_verification")


def _payer(data: dict[str, Any]) -> str | None:
    payer = data.get("payer")
    if payer is None:
        return None
    if not isinstance(payer, dict) or not isinstance(payer.get("openid"), str) or not payer["openid"]:
        raise ControlError(400, "INVALID_REQUEST", "payer is {openid: string}")
    return str(payer["openid"])


def control_routes(sim: WeChatPaySimulator) -> list[Route]:
    async def merchants(request: Request) -> Any:
        data = await read_json(request)
        check_fields(data, _MERCHANT_FIELDS[:-1], _MERCHANT_FIELDS[-1:])
        return sim.register_merchant(**data)

    async def pay(request: Request) -> Any:
        data = await read_json(request)
        order = sim.find_order(data)
        return sim.pay(order, amount=data.get("amount"), openid=_payer(data)).record()

    async def cancel(request: Request) -> Any:
        return sim.cancel(sim.find_order(await read_json(request))).record()

    async def order(request: Request) -> Any:
        selector = {
            "out_trade_no": request.path_params["out_trade_no"],
            "mchid": request.query_params.get("mchid"),
        }
        return sim.find_order(selector).record()

    async def settle(request: Request) -> Any:
        data = await read_json(request)
        check_fields(data, ("refund_no", "outcome"), ("mchid",))
        refund = sim.refunds.find(data["refund_no"], data.get("mchid"))
        return sim.refunds.settle(refund, data["outcome"]).record()

    return [
        Route("/_control/merchants", json_route(merchants), methods=["POST"]),
        Route("/_control/pay", json_route(pay), methods=["POST"]),
        Route("/_control/cancel", json_route(cancel), methods=["POST"]),
        Route("/_control/orders/{out_trade_no}", json_route(order), methods=["GET"]),
        Route("/_control/refunds/settle", json_route(settle), methods=["POST"]),
        Route("/_control/faults", json_route(faults_handler(sim.faults)), methods=["GET", "PUT", "DELETE"]),
        Route("/_control/callbacks", json_route(callbacks_handler(sim.notifier)), methods=["GET"]),
    ]
