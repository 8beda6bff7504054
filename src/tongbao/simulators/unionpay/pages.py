"""The gateway's pages for the payer: the order with a Pay button, the hand-back to the merchant
(an auto-submitting form to ``frontUrl``) and error pages, on the base layout in UnionPay's colours."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from html import escape
from typing import Final

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from tongbao.channels.unionpay import protocol

from ..base import pages
from ..base.control import ControlError
from ..base.wire import mount_prefix
from .state import UnionPaySimulator
from .state_models import Order

THEME: Final = pages.Theme(
    "UnionPay gateway simulator", accent="#d7000f", paid="#07a", extra_css="button { margin-top: .5rem; }\n"
)


def _details(order: Order) -> str:
    rows = [
        ("Merchant", order.mer_id),
        ("Order", order.order_id),
        ("Sent", order.txn_time),
        ("State", order.state),
    ]
    if order.query_id:
        rows.append(("Query id", order.query_id))
    return pages.details(order.paid_amount if order.paid_amount is not None else order.txn_amt, rows)


def order_page(order: Order, prefix: str, error: str | None = None) -> str:
    form = pages.pay_form(prefix, {"token": order.token})
    return pages.page(THEME, "Pay", pages.notice(error) + _details(order) + form)


def return_page(order: Order, fields: Mapping[str, str]) -> str:
    """Paid: the browser posts the signed result to the merchant's frontUrl at once."""
    form = (
        f'<form id="return" method="post" action="{escape(order.front_url)}">{pages.hidden(fields)}'
        '<button type="submit">Return to the merchant</button></form>'
    )
    body = '<p class="paid">Paid</p>' + _details(order) + form
    return pages.page(THEME, "Paid", body, " onload=\"document.getElementById('return').submit()\"")


def error_page(resp_code: str, resp_msg: str) -> str:
    content = (
        f'<p class="error">respCode={escape(resp_code)}</p>'
        f'<p class="error" id="respMsg">{escape(resp_msg)}</p>'
    )
    return pages.page(THEME, "Error", content)


def payer_routes(sim: UnionPaySimulator) -> list[Route]:
    def html(handler: Callable[[Request], Awaitable[str]]) -> Callable[[Request], Awaitable[Response]]:
        async def route(request: Request) -> Response:
            try:
                return HTMLResponse(await handler(request))
            except ControlError as exc:
                return HTMLResponse(error_page(exc.code, exc.message), status_code=exc.status)

        return route

    async def show(request: Request) -> str:
        order = sim.by_token(request.query_params.get("token", ""))
        return order_page(order, mount_prefix(request.scope))

    async def pay(request: Request) -> str:
        try:
            form = protocol.parse_form(await request.body())
        except (ValueError, UnicodeDecodeError) as exc:
            raise ControlError(400, "INVALID_REQUEST", "not a form") from exc
        order = sim.by_token(form.get("token", ""))
        try:
            sim.pay(order)
        except ControlError as exc:
            return order_page(order, mount_prefix(request.scope), exc.message)
        return return_page(order, sim.front_result(order))

    return [
        Route("/_control/payer", html(show), methods=["GET"]),
        Route("/_control/payer/pay", html(pay), methods=["POST"]),
    ]
