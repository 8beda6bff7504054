"""The control API (``/_control/…``, JSON, no auth): a test or a person acts as the payer, inspects
orders and their refunds, finishes a processing refund and injects faults."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.routing import Route

from ..base.control import callbacks_handler, check_fields, faults_handler, json_route, read_json
from .state import UnionPaySimulator

_MERCHANT_FIELDS = ("mer_id", "certificate_pem")
_SETTLE_FIELDS = ("refund_no", "outcome")
_SETTLE_OPTIONAL = ("mer_id", "txn_time")


def control_routes(sim: UnionPaySimulator) -> list[Route]:
    async def merchants(request: Request) -> Any:
        data = await read_json(request)
        check_fields(data, _MERCHANT_FIELDS)
        return sim.register_merchant(data["mer_id"], data["certificate_pem"])

    async def pay(request: Request) -> Any:
        data = await read_json(request)
        return sim.pay(sim.find_order(data), amount=data.get("amount")).record()

    async def cancel(request: Request) -> Any:
        return sim.cancel(sim.find_order(await read_json(request))).record()

    async def order(request: Request) -> Any:
        selector = {
            "out_trade_no": request.path_params["order_id"],
            "mer_id": request.query_params.get("mer_id"),
            "txn_time": request.query_params.get("txn_time"),
        }
        return sim.find_order(selector).record()

    async def settle(request: Request) -> Any:
        """``{refund_no, outcome: success | abnormal}``: finish a processing refund now."""
        data = await read_json(request)
        check_fields(data, _SETTLE_FIELDS, _SETTLE_OPTIONAL)
        return sim.settle_refund(sim.find_refund(data), data["outcome"]).record()

    return [
        Route("/_control/merchants", json_route(merchants), methods=["POST"]),
        Route("/_control/pay", json_route(pay), methods=["POST"]),
        Route("/_control/cancel", json_route(cancel), methods=["POST"]),
        Route("/_control/orders/{order_id}", json_route(order), methods=["GET"]),
        Route("/_control/refunds/settle", json_route(settle), methods=["POST"]),
        Route("/_control/faults", json_route(faults_handler(sim.faults)), methods=["GET", "PUT", "DELETE"]),
        Route("/_control/callbacks", json_route(callbacks_handler(sim.notifier)), methods=["GET"]),
    ]
