"""The payer's cashier: open a trade (by the qr_code a merchant showed, or arriving with a page, wap or
app pay request) and pay it, on the base layout in Alipay's colours; after paying, the browser goes
back to the merchant's return_url when there is one."""

from __future__ import annotations

from typing import Final
from urllib.parse import parse_qsl, urlencode

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from tongbao.channels.alipay import protocol

from ..base import pages
from ..base.control import ControlError
from ..base.wire import mount_prefix
from .state import AlipaySimulator
from .state_models import Trade

THEME: Final = pages.Theme("Alipay simulator", accent="#1677ff", background="#f5f5f5")
_SELECTORS: Final = ("out_trade_no", "qr_code", "app_id")


def _details(trade: Trade) -> str:
    rows = [
        ("App", trade.app_id),
        ("Subject", trade.subject),
        ("Order", trade.out_trade_no),
        ("Trade", trade.trade_no),
        ("Status", trade.status),
    ]
    return pages.details(trade.total, rows)


def trade_page(trade: Trade, prefix: str, error: str | None = None) -> str:
    """A trade with its Pay button."""
    form = pages.pay_form(prefix, {"app_id": trade.app_id, "out_trade_no": trade.out_trade_no})
    return pages.page(THEME, "Pay", pages.notice(error) + _details(trade) + form)


def paid_page(trade: Trade) -> str:
    return pages.page(THEME, "Paid", '<p class="paid">Paid</p>' + _details(trade))


def lookup_page(prefix: str, error: str | None = None) -> str:
    """No trade chosen yet: paste the qr_code a merchant displayed."""
    form = pages.lookup_form(prefix, "qr_code", "QR code (https://qr.alipay.com/…)")
    return pages.page(THEME, "Scan", pages.notice(error) + form)


def error_page(message: str, prefix: str) -> str:
    return pages.page(THEME, "Error", pages.notice(message) + pages.back_link(prefix))


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


def payer_routes(sim: AlipaySimulator) -> list[Route]:
    def selector(pairs: dict[str, str]) -> dict[str, str]:
        return {name: pairs[name] for name in _SELECTORS if pairs.get(name)}

    async def show(request: Request) -> Response:
        prefix = mount_prefix(request.scope)
        chosen = selector(dict(request.query_params))
        if not chosen:
            return HTMLResponse(lookup_page(prefix))
        try:
            found = sim.find_trade(chosen)
        except ControlError as exc:
            return HTMLResponse(lookup_page(prefix, exc.message), status_code=exc.status)
        return HTMLResponse(trade_page(found, prefix))

    async def pay(request: Request) -> Response:
        prefix = mount_prefix(request.scope)
        form = dict(parse_qsl((await request.body()).decode("utf-8", "replace")))
        try:
            found = sim.find_trade(selector(form))
        except ControlError as exc:
            return HTMLResponse(error_page(exc.message, prefix), status_code=exc.status)
        try:
            sim.pay(found)
        except ControlError as exc:
            return HTMLResponse(trade_page(found, prefix, exc.message), status_code=exc.status)
        if found.return_url:
            return RedirectResponse(return_url(sim, found), status_code=303)
        return HTMLResponse(paid_page(found))

    return [
        Route("/_control/payer", show, methods=["GET"]),
        Route("/_control/payer/pay", pay, methods=["POST"]),
    ]
