"""The payer's pages: open an order (by the code URL a merchant showed, or the h5_url's prepay_id)
and pay it, on the base layout in WeChat's colours."""

from __future__ import annotations

from typing import Final
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from ..base import pages
from ..base.control import ControlError
from ..base.wire import mount_prefix
from .state import WeChatPaySimulator
from .state_models import Order

THEME: Final = pages.Theme("WeChat Pay simulator", accent="#07c160")
_SELECTORS: Final = ("out_trade_no", "code_url", "prepay_id", "mchid")


def _details(order: Order) -> str:
    rows = [
        ("Merchant", f"{order.mchid} ({order.appid})"),
        ("Description", order.description),
        ("Order", order.out_trade_no),
        ("Type", order.trade_type),
        ("State", f"{order.trade_state} {order.trade_state_desc}"),
    ]
    if order.transaction_id:
        rows.append(("Transaction", order.transaction_id))
    return pages.details(order.total, rows)


def order_page(order: Order, prefix: str, error: str | None = None) -> str:
    """An order with its Pay button."""
    form = pages.pay_form(prefix, {"prepay_id": order.prepay_id})
    return pages.page(THEME, "Pay", pages.notice(error) + _details(order) + form)


def paid_page(order: Order) -> str:
    return pages.page(THEME, "Paid", '<p class="paid">Paid</p>' + _details(order))


def lookup_page(prefix: str, error: str | None = None) -> str:
    """No order chosen yet: paste the code URL a merchant displayed as a QR code."""
    form = pages.lookup_form(prefix, "code_url", "Code URL (weixin://wxpay/bizpayurl?pr=…)")
    return pages.page(THEME, "Scan", pages.notice(error) + form)


def error_page(message: str, prefix: str) -> str:
    return pages.page(THEME, "Error", pages.notice(message) + pages.back_link(prefix))


def payer_routes(sim: WeChatPaySimulator) -> list[Route]:
    def selector(pairs: dict[str, str]) -> dict[str, str]:
        return {name: pairs[name] for name in _SELECTORS if pairs.get(name)}

    async def show(request: Request) -> Response:
        prefix = mount_prefix(request.scope)
        chosen = selector(dict(request.query_params))
        if not chosen:
            return HTMLResponse(lookup_page(prefix))
        try:
            order = sim.find_order(chosen)
        except ControlError as exc:
            return HTMLResponse(lookup_page(prefix, exc.message), status_code=exc.status)
        return HTMLResponse(order_page(order, prefix))

    async def pay(request: Request) -> Response:
        prefix = mount_prefix(request.scope)
        form = dict(parse_qsl((await request.body()).decode("utf-8", "replace")))
        try:
            order = sim.find_order(selector(form))
        except ControlError as exc:
            return HTMLResponse(error_page(exc.message, prefix), status_code=exc.status)
        try:
            sim.pay(order)
        except ControlError as exc:
            return HTMLResponse(order_page(order, prefix, exc.message), status_code=exc.status)
        return HTMLResponse(paid_page(order))

    return [
        Route("/_control/payer", show, methods=["GET"]),
        Route("/_control/payer/pay", pay, methods=["POST"]),
    ]
