"""The control API (``/_control/…``, JSON, no auth): a test or a person acts as the payer, inspects
orders and injects faults."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ..faults import FaultPlan, FaultPlanError
from .state import UnionPaySimulator
from .validation import ControlError

_MERCHANT_FIELDS = ("mer_id", "certificate_pem")


async def _json(request: Request) -> dict[str, Any]:
    try:
        data = json.loads(await request.body() or b"{}")
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ControlError(400, "INVALID_REQUEST", "the body is not JSON") from exc
    if not isinstance(data, dict):
        raise ControlError(400, "INVALID_REQUEST", "the body is a JSON object")
    return data


def _json_route(handler: Callable[[Request], Awaitable[Any]]) -> Callable[[Request], Awaitable[Response]]:
    async def route(request: Request) -> Response:
        try:
            result = await handler(request)
        except ControlError as exc:
            return JSONResponse(exc.body(), status_code=exc.status)
        return JSONResponse(result)

    return route


def control_routes(sim: UnionPaySimulator) -> list[Route]:
    async def merchants(request: Request) -> Any:
        data = await _json(request)
        missing = [name for name in _MERCHANT_FIELDS if name not in data]
        unknown = sorted(set(data) - set(_MERCHANT_FIELDS))
        if missing or unknown:
            problem = f"missing {', '.join(missing)}" if missing else f"unknown field {', '.join(unknown)}"
            raise ControlError(400, "INVALID_REQUEST", problem)
        return sim.register_merchant(data["mer_id"], data["certificate_pem"])

    async def pay(request: Request) -> Any:
        data = await _json(request)
        return sim.pay(sim.find_order(data), amount=data.get("amount")).record()

    async def cancel(request: Request) -> Any:
        return sim.cancel(sim.find_order(await _json(request))).record()

    async def order(request: Request) -> Any:
        selector = {
            "out_trade_no": request.path_params["order_id"],
            "mer_id": request.query_params.get("mer_id"),
            "txn_time": request.query_params.get("txn_time"),
        }
        return sim.find_order(selector).record()

    async def faults(request: Request) -> Any:
        if request.method == "PUT":
            try:
                sim.faults.install(FaultPlan.from_json(await _json(request)))
            except FaultPlanError as exc:
                raise ControlError(400, "INVALID_FAULT_PLAN", str(exc)) from exc
        elif request.method == "DELETE":
            sim.faults.clear()
        return sim.faults.plan_json()

    return [
        Route("/_control/merchants", _json_route(merchants), methods=["POST"]),
        Route("/_control/pay", _json_route(pay), methods=["POST"]),
        Route("/_control/cancel", _json_route(cancel), methods=["POST"]),
        Route("/_control/orders/{order_id}", _json_route(order), methods=["GET"]),
        Route("/_control/faults", _json_route(faults), methods=["GET", "PUT", "DELETE"]),
    ]
