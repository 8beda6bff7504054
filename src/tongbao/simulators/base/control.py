"""What every simulator's control API (``/_control/…``, JSON, no auth) shares: its error, reading
a JSON object, answering JSON, checking a registration's fields and the payer's amount, the
fault-plan endpoint and the count of callbacks still to send."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from ..faults import FaultInjector, FaultPlan, FaultPlanError
from .sending import NotificationSender


class ControlError(Exception):
    """An error of the control API or a payer page (not part of any channel's protocol)."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message

    def body(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message}


async def read_json(request: Request) -> dict[str, Any]:
    try:
        data = json.loads(await request.body() or b"{}")
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ControlError(400, "INVALID_REQUEST", "the body is not JSON") from exc
    if not isinstance(data, dict):
        raise ControlError(400, "INVALID_REQUEST", "the body is a JSON object")
    return data


def json_route(handler: Callable[[Request], Awaitable[Any]]) -> Callable[[Request], Awaitable[Response]]:
    """A handler's result as JSON (a Response passes through); a ControlError as its JSON body."""

    async def route(request: Request) -> Response:
        try:
            result = await handler(request)
        except ControlError as exc:
            return JSONResponse(exc.body(), status_code=exc.status)
        return result if isinstance(result, Response) else JSONResponse(result)

    return route


def check_fields(data: dict[str, Any], required: Sequence[str], optional: Sequence[str] = ()) -> None:
    missing = [name for name in required if name not in data]
    unknown = sorted(set(data) - set(required) - set(optional))
    if missing or unknown:
        problem = f"missing {', '.join(missing)}" if missing else f"unknown field {', '.join(unknown)}"
        raise ControlError(400, "INVALID_REQUEST", problem)


def check_amount(amount: object) -> None:
    """The payer's optional ``amount``, paid instead of the order's own: a positive number of fen."""
    if amount is not None and (isinstance(amount, bool) or not isinstance(amount, int) or amount < 1):
        raise ControlError(400, "INVALID_REQUEST", "amount must be a positive integer number of fen")


def faults_handler(faults: FaultInjector) -> Callable[[Request], Awaitable[Any]]:
    """``GET`` shows the plan and its call counters, ``PUT`` installs one, ``DELETE`` clears it."""

    async def handle(request: Request) -> Any:
        if request.method == "PUT":
            try:
                faults.install(FaultPlan.from_json(await read_json(request)))
            except FaultPlanError as exc:
                raise ControlError(400, "INVALID_FAULT_PLAN", str(exc)) from exc
        elif request.method == "DELETE":
            faults.clear()
        return faults.plan_json()

    return handle


def callbacks_handler(notifier: NotificationSender) -> Callable[[Request], Awaitable[Any]]:
    """``GET``: how many notifications (and their retries, and background steps) are still to be
    sent, so a run can tell when the channel has nothing more to say; of those, how many wait to
    retry after a failed attempt, and in how many seconds the first retry is due."""

    async def handle(request: Request) -> Any:
        retrying, next_retry_s = notifier.retries_waiting()
        return {
            "pending": notifier.pending,
            "retrying": retrying,
            "next_retry_in_s": None if next_retry_s is None else round(next_retry_s, 1),
        }

    return handle
